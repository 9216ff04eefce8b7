import click

from ... import accounts, api_tokens
from . import bp


@bp.cli.command("create-token")
@click.argument("email")
@click.option("--name", default="command line", help="What the token is for.")
def create_token_command(email: str, name: str):
    """Create a personal API token and print it (shown this once only)."""
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.BadParameter(f"no account for {email}", param_hint="EMAIL")
    token, raw = api_tokens.issue_token(user, name)
    click.echo(raw)
    note = f"token {token.prefix} “{token.name}” for {user.email}; it is not shown again"
    click.echo(note, err=True)

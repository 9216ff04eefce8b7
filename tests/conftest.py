pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.app",
    "tests.fixtures.factories",
    "tests.fixtures.browser",
    "tests.fixtures.livekit",
    "tests.fixtures.api",
    "tests.fixtures.http_server",
    "tests.fixtures.attendance",
    "tests.fixtures.report_data",
    "tests.fixtures.client_portal",
    "tests.fixtures.practice",
    "tests.fixtures.security",
]

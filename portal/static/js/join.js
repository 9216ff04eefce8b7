// Connects the join page to its LiveKit room. The server URL and the token come from
// data- attributes (the CSP allows no inline script); without JavaScript the page
// still shows both, for any other LiveKit client. What it says comes translated from
// the page's data-text-* attributes.
(function () {
  "use strict";

  var box = document.getElementById("livekit-room");
  if (!box || !window.LivekitClient) {
    return;
  }
  var LK = window.LivekitClient;
  var status = document.getElementById("room-status");
  var connectButton = document.getElementById("room-connect");
  var leaveButton = document.getElementById("room-leave");
  var grid = document.getElementById("video-grid");
  var room = null;
  var phrases = box.dataset;

  // A name or an error may hold "$&", which String.replace would read as a pattern.
  function fill(phrase, key, value) {
    return phrase.replace("{" + key + "}", function () { return value; });
  }

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function tileFor(participant, isLocal) {
    var id = "tile-" + participant.sid;
    var tile = document.getElementById(id);
    if (!tile) {
      tile = document.createElement("figure");
      tile.id = id;
      tile.className = isLocal ? "tile local" : "tile";
      var caption = document.createElement("figcaption");
      var name = participant.name || participant.identity;
      caption.textContent = isLocal ? fill(phrases.textYou, "name", name) : name;
      tile.appendChild(caption);
      grid.appendChild(tile);
    }
    return tile;
  }

  function attach(track, participant, isLocal) {
    if (isLocal && track.kind !== LK.Track.Kind.Video) {
      return; // never play your own microphone back
    }
    tileFor(participant, isLocal).appendChild(track.attach());
  }

  function reset() {
    grid.replaceChildren();
    room = null;
    connectButton.hidden = false;
    leaveButton.hidden = true;
  }

  async function connect() {
    connectButton.hidden = true;
    say(phrases.textConnecting);
    room = new LK.Room({ adaptiveStream: true, dynacast: true });
    room
      .on(LK.RoomEvent.TrackSubscribed, function (track, _pub, participant) {
        attach(track, participant, false);
      })
      .on(LK.RoomEvent.TrackUnsubscribed, function (track) {
        track.detach().forEach(function (el) { el.remove(); });
      })
      .on(LK.RoomEvent.LocalTrackPublished, function (publication, participant) {
        if (publication.track) {
          attach(publication.track, participant, true);
        }
      })
      .on(LK.RoomEvent.ParticipantDisconnected, function (participant) {
        var tile = document.getElementById("tile-" + participant.sid);
        if (tile) {
          tile.remove();
        }
      })
      .on(LK.RoomEvent.Disconnected, function () {
        say(phrases.textLeft);
        reset();
      });
    try {
      await room.connect(box.dataset.livekitUrl, box.dataset.token);
    } catch (error) {
      say(fill(phrases.textFailed, "error", error.message), true);
      reset();
      return;
    }
    leaveButton.hidden = false;
    say(phrases.textConnected);
    try {
      await room.localParticipant.enableCameraAndMicrophone();
    } catch (error) {
      say(fill(phrases.textNoDevices, "error", error.message), true);
    }
  }

  connectButton.addEventListener("click", connect);
  leaveButton.addEventListener("click", function () {
    if (room) {
      room.disconnect();
    }
  });
  connectButton.hidden = false;
  say(phrases.textReady);
})();

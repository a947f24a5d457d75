// The voiceagent page: microphone -> server, server -> speaker, captions and state.
// Plain ES module, no build step: copy this file and the two worklets into any front end and
// call connectVoiceAgent({...}) with your own elements, or use index.html as it is.
const RATE = 24000;

const STATES = {
  connecting: "Connecting…",
  listening: "Listening",
  user_speaking: "You are speaking",
  thinking: "Thinking…",
  agent_speaking: "Agent speaking",
  reconnecting: "Reconnecting…",
  stopped: "Stopped",
};

// What the page measured, for tests and benchmarks (frames are 24 kHz).
export const stats = {
  state: "stopped",
  playedFrames: 0,
  receivedFrames: 0,
  clears: 0,
  clearToSilentMs: [],
  silentAtMs: [], // wall-clock ms (Date.now) of each first silent block after a clear
  lastCleared: null,
  lastPlayed: {}, // frames output per item, as last reported
  captions: [],
  errors: [],
  closedReason: null,
};
window.voiceagentStats = stats;

export class VoiceAgentClient {
  constructor({ url, onState, onCaption, onMessage, onLevel, onAvatar }) {
    this.onAvatar = onAvatar;
    this.avatarPeer = null;
    this.url = url;
    this.onState = onState || (() => {});
    this.onCaption = onCaption || (() => {});
    this.onMessage = onMessage || (() => {});
    this.onLevel = onLevel || (() => {});
    this.socket = null;
    this.context = null;
    this.stream = null;
    this.item = null;
    this.clearSentAt = new Map();
    this.closedByServer = false;
    this.stopping = false;
  }

  setState(state) {
    stats.state = state;
    this.onState(state, STATES[state] || state);
  }

  async start() {
    this.setState("connecting");
    this.stopping = false;
    this.closedByServer = false;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
      });
    } catch (error) {
      this.setState("stopped");
      const refused = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
      this.onMessage(
        refused
          ? "Microphone access was refused. Allow the microphone for this site and press Start again."
          : `No microphone could be opened (${error && error.name}). Plug one in and press Start again.`,
        "error",
      );
      return false;
    }
    this.context = new AudioContext({ sampleRate: RATE, latencyHint: "interactive" });
    await this.context.audioWorklet.addModule(new URL("capture-worklet.js", import.meta.url));
    await this.context.audioWorklet.addModule(new URL("playback-worklet.js", import.meta.url));
    this.capture = new AudioWorkletNode(this.context, "voiceagent-capture");
    this.playback = new AudioWorkletNode(this.context, "voiceagent-playback", { outputChannelCount: [1] });
    this.context.createMediaStreamSource(this.stream).connect(this.capture);
    this.playback.connect(this.context.destination);
    this.capture.port.onmessage = (event) => this.fromMicrophone(event.data);
    this.playback.port.onmessage = (event) => this.fromPlayer(event.data);
    await this.context.resume();
    this.openSocket();
    return true;
  }

  openSocket() {
    const url = new URL(this.url, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => socket.send(JSON.stringify({ type: "hello", sample_rate: RATE }));
    socket.onmessage = (event) => this.fromServer(event.data);
    socket.onclose = (event) => this.socketClosed(event);
    this.socket = socket;
  }

  fromMicrophone({ pcm, level }) {
    this.onLevel(level);
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(pcm);
  }

  fromPlayer(message) {
    if (message.type === "silent") {
      const sent = this.clearSentAt.get(message.seq);
      if (sent !== undefined) stats.clearToSilentMs.push(performance.now() - sent);
      stats.silentAtMs.push(Date.now());
      this.clearSentAt.delete(message.seq);
      return;
    }
    if (message.type === "cleared") stats.lastCleared = message;
    if (message.type === "played") {
      stats.playedFrames = Object.values(message.frames).reduce((a, b) => a + b, 0);
      stats.lastPlayed = message.frames;
    }
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  fromServer(data) {
    if (data instanceof ArrayBuffer) {
      if (this.item === null) return; // audio of a cleared item still in flight
      stats.receivedFrames += data.byteLength / 2;
      this.playback.port.postMessage({ type: "audio", item: this.item, pcm: data }, [data]);
      return;
    }
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    switch (message.type) {
      case "audio":
        this.item = message.item_id;
        break;
      case "clear":
        stats.clears += 1;
        this.item = null;
        this.clearSentAt.set(message.seq, performance.now());
        this.playback.port.postMessage({ type: "clear", seq: message.seq });
        break;
      case "avatar":
        this.startAvatar(message.ice_servers || []);
        break;
      case "avatar.answer":
        this.avatarAnswered(message.sdp);
        break;
      case "caption":
        stats.captions.push(message);
        this.onCaption(message);
        break;
      case "state":
        this.setState(message.state);
        break;
      case "error":
        stats.errors.push(message.message);
        this.onMessage(message.message, "error");
        break;
      case "closed":
        stats.closedReason = message.reason;
        this.closedByServer = true;
        this.onMessage(`The conversation ended: ${message.reason}. Press Start for a new one.`, "info");
        break;
    }
  }

  socketClosed(event) {
    const wasStopping = this.stopping;
    this.release();
    this.setState("stopped");
    if (!wasStopping && !this.closedByServer) {
      this.onMessage(
        `The server went away (connection closed, code ${event.code}). Press Start to try again.`,
        "error",
      );
    }
  }

  // The avatar (docs/avatar.md): the server relays the SDP; video and voice come over WebRTC.
  async startAvatar(iceServers) {
    if (this.avatarPeer) return; // one connection per conversation
    const peer = new RTCPeerConnection({ iceServers });
    this.avatarPeer = peer;
    window.voiceagentAvatarPeer = peer; // for tests: getStats() of the avatar's connection
    stats.avatar = { state: "connecting", tracks: [] };
    const stream = new MediaStream();
    peer.ontrack = (event) => {
      stream.addTrack(event.track);
      stats.avatar.tracks.push(event.track.kind);
      if (event.track.kind === "audio") this.muteSocketVoice();
      (this.onAvatar || (() => {}))(stream);
    };
    peer.onconnectionstatechange = () => (stats.avatar.state = peer.connectionState);
    peer.addTransceiver("video", { direction: "recvonly" });
    peer.addTransceiver("audio", { direction: "recvonly" });
    await peer.setLocalDescription(await peer.createOffer());
    if (peer.iceGatheringState !== "complete") {
      // The whole offer in one message (no trickle ICE): wait for the candidates.
      await new Promise((resolve) => {
        peer.addEventListener("icegatheringstatechange", () => {
          if (peer.iceGatheringState === "complete") resolve();
        });
      });
    }
    if (this.socket && this.socket.readyState === WebSocket.OPEN && this.avatarPeer === peer) {
      this.socket.send(JSON.stringify({ type: "avatar.offer", sdp: peer.localDescription.sdp }));
    }
  }

  async avatarAnswered(sdp) {
    if (this.avatarPeer) await this.avatarPeer.setRemoteDescription({ type: "answer", sdp });
  }

  // The voice plays from the WebRTC track: the socket's copy still runs through the player (its
  // played counts keep barge-in exact) but at zero volume.
  muteSocketVoice() {
    if (!this.context || !this.playback || this.socketVoiceMuted) return;
    this.socketVoiceMuted = this.context.createGain();
    this.socketVoiceMuted.gain.value = 0;
    this.playback.disconnect();
    this.playback.connect(this.socketVoiceMuted).connect(this.context.destination);
  }

  release() {
    if (this.avatarPeer) this.avatarPeer.close();
    this.avatarPeer = null;
    this.socketVoiceMuted = null;
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    if (this.context) this.context.close();
    this.stream = null;
    this.context = null;
    this.item = null;
  }

  stop() {
    this.stopping = true;
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000, "stopped");
    else this.release();
    this.setState("stopped");
  }
}

// Wire the client to index.html's elements (ids: start, state, meter, captions, message).
export function connectVoiceAgent({ url = "ws", root = document } = {}) {
  const byId = (id) => root.getElementById(id);
  const button = byId("start");
  const captions = byId("captions");
  const bubbles = new Map();
  let running = false;
  const client = new VoiceAgentClient({
    url,
    onState: (state, text) => {
      byId("state").textContent = text;
      byId("state").dataset.state = state;
      if (state === "stopped") {
        running = false;
        button.textContent = "Start";
        byId("meter").value = 0;
      }
    },
    onLevel: (level) => (byId("meter").value = Math.min(1, level * 4)),
    onAvatar: (stream) => {
      const video = byId("avatar");
      if (!video) return;
      if (video.srcObject !== stream) video.srcObject = stream;
      video.hidden = false;
      video.play().catch(() => {});
    },
    onMessage: (text, kind) => {
      const box = byId("message");
      box.textContent = text;
      box.dataset.kind = kind;
    },
    onCaption: ({ role, item_id, text, final, interrupted }) => {
      const key = `${role}:${item_id}`;
      let bubble = item_id ? bubbles.get(key) : undefined;
      if (!bubble) {
        bubble = document.createElement("p");
        bubble.className = `caption ${role}`;
        bubble.append(document.createElement("span"));
        captions.append(bubble);
        if (item_id) bubbles.set(key, bubble);
      }
      const span = bubble.firstChild;
      span.textContent = final ? text : span.textContent + text;
      if (interrupted && !bubble.querySelector(".interrupted")) {
        const mark = document.createElement("em");
        mark.className = "interrupted";
        mark.textContent = "interrupted";
        bubble.append(mark);
      }
      captions.scrollTop = captions.scrollHeight;
    },
  });
  button.addEventListener("click", async () => {
    if (running) {
      client.stop();
      return;
    }
    running = true;
    button.textContent = "Stop";
    byId("message").textContent = "";
    if (!(await client.start())) {
      running = false;
      button.textContent = "Start";
    }
  });
  return client;
}

// Playback: a jitter buffer of the agent's audio (PCM16 24 kHz from the socket). It starts an
// item once 60 ms are buffered (or no audio came for 100 ms), drops everything at once on
// "clear", and reports the frames it actually output per item: the server truncates the reply
// at what the user heard. Runs on the audio thread.
const PREBUFFER = 1440; // 60 ms at 24 kHz
const STALL = 2400; // start anyway after 100 ms without new audio
const REPORT_EVERY = 1200; // a "played" report every 50 ms while playing

class VoiceAgentPlayback extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = []; // {item, data: Float32Array}
    this.head = 0; // read offset in queue[0].data
    this.buffered = 0;
    this.received = 0; // frames given since the last clear
    this.played = {}; // item id -> frames output (cumulative)
    this.seq = 0; // the last clear seen
    this.started = false;
    this.sinceAudio = 0;
    this.sinceReport = 0;
    this.silentAfterClear = -1; // the clear whose silence is not reported yet
    this.port.onmessage = (event) => this.receive(event.data);
  }

  receive(message) {
    if (message.type === "audio") {
      const pcm = new Int16Array(message.pcm);
      const data = new Float32Array(pcm.length);
      for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 0x8000;
      this.queue.push({ item: message.item, data });
      this.buffered += data.length;
      this.received += data.length;
      this.sinceAudio = 0;
    } else if (message.type === "clear") {
      this.queue = [];
      this.head = 0;
      this.buffered = 0;
      this.received = 0;
      this.started = false;
      this.seq = message.seq;
      this.silentAfterClear = message.seq;
      this.port.postMessage({ type: "cleared", seq: message.seq, frames: { ...this.played } });
    }
  }

  report(idle) {
    this.sinceReport = 0;
    this.port.postMessage({
      type: "played",
      seq: this.seq,
      frames: { ...this.played },
      received: this.received,
      idle,
    });
  }

  process(inputs, outputs) {
    const channels = outputs[0];
    const out = channels[0];
    if (!this.started && this.buffered > 0) {
      this.started = this.buffered >= PREBUFFER || this.sinceAudio >= STALL;
    }
    let n = 0;
    while (this.started && n < out.length && this.queue.length > 0) {
      const chunk = this.queue[0];
      const take = Math.min(out.length - n, chunk.data.length - this.head);
      out.set(chunk.data.subarray(this.head, this.head + take), n);
      this.played[chunk.item] = (this.played[chunk.item] || 0) + take;
      n += take;
      this.head += take;
      this.buffered -= take;
      if (this.head === chunk.data.length) {
        this.queue.shift();
        this.head = 0;
      }
    }
    out.fill(0, n);
    for (let c = 1; c < channels.length; c++) channels[c].set(out);
    this.sinceAudio += out.length;
    if (this.silentAfterClear >= 0) {
      this.port.postMessage({ type: "silent", seq: this.silentAfterClear });
      this.silentAfterClear = -1;
    }
    if (n > 0) {
      this.sinceReport += n;
      if (this.queue.length === 0) {
        this.started = false;
        this.report(true);
      } else if (this.sinceReport >= REPORT_EVERY) {
        this.report(false);
      }
    }
    return true;
  }
}

registerProcessor("voiceagent-playback", VoiceAgentPlayback);

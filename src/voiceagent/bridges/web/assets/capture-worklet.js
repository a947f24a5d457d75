// Microphone capture: resample the context's rate to 24 kHz (linear), convert to PCM16 and post
// 20 ms batches (480 frames) with their level, for the meter. Runs on the audio thread.
const TARGET_RATE = 24000;
const BATCH = 480;

class VoiceAgentCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE; // input frames per output frame
    this.t = 0; // next output position, in input frames relative to this block (may be < 0)
    this.previous = 0; // the last input sample of the previous block
    this.batch = new Int16Array(BATCH);
    this.filled = 0;
    this.energy = 0;
  }

  push(sample) {
    const clamped = Math.max(-1, Math.min(1, sample));
    this.batch[this.filled++] = clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff;
    this.energy += clamped * clamped;
    if (this.filled === BATCH) {
      const level = Math.sqrt(this.energy / BATCH);
      this.port.postMessage({ pcm: this.batch.buffer, level }, [this.batch.buffer]);
      this.batch = new Int16Array(BATCH);
      this.filled = 0;
      this.energy = 0;
    }
  }

  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input || input.length === 0) return true;
    let t = this.t;
    while (t < input.length - 1) {
      const i = Math.floor(t);
      const a = i < 0 ? this.previous : input[i];
      const b = input[i + 1];
      this.push(a + (b - a) * (t - i));
      t += this.step;
    }
    this.t = t - input.length;
    this.previous = input[input.length - 1];
    return true;
  }
}

registerProcessor("voiceagent-capture", VoiceAgentCapture);

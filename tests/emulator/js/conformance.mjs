// Drive one conversation with Microsoft's JS SDK (@azure/ai-voicelive) against the emulator and
// print, one JSON line each, every server event the SDK parsed (with the required properties
// its models say are missing) and any MessageParsingError.
// Usage: node conformance.mjs <endpoint> <model|agent> <credential> <pcm16-24k-file>
import { readFileSync } from "node:fs";
import { VoiceLiveClient } from "@azure/ai-voicelive";
import { AzureKeyCredential } from "@azure/core-auth";
import { missingRequired } from "./required.mjs";

const [endpoint, mode, secret, audioPath] = process.argv.slice(2);
const print = (record) => process.stdout.write(JSON.stringify(record) + "\n");

const credential =
  mode === "agent"
    ? { getToken: async () => ({ token: secret, expiresOnTimestamp: Date.now() + 3600_000 }) }
    : new AzureKeyCredential(secret);
const client = new VoiceLiveClient(endpoint, credential);

const seen = [];
const waiters = [];
function onEvent(event) {
  if (event.type === "error" && event.error?.code === "MessageParsingError") {
    print({ parse_error: event.error.message });
  } else {
    print({ parsed: event.type, event, missing: missingRequired(event) });
  }
  seen.push(event);
  for (const waiter of [...waiters]) {
    if (waiter.types.includes(event.type)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(event);
    }
  }
}
// Resolves with the next event of one of `types` (or one already seen since `from`).
function until(from, ...types) {
  const earlier = seen.slice(from).find((e) => types.includes(e.type));
  if (earlier) return Promise.resolve(earlier);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${types}`)), 10_000);
    waiters.push({ types, resolve: (e) => { clearTimeout(timer); resolve(e); } });
  });
}

async function main() {
  const target = mode === "agent" ? { agent: { agentName: "a", projectName: "p" } } : "gpt-realtime";
  const session = client.createSession(target);
  session.subscribe({ onServerEvent: async (event) => onEvent(event) });
  let mark = 0;
  await session.connect();
  await until(mark, "session.created");
  mark = seen.length;
  const config = {
    inputAudioTranscription: { model: "whisper-1" },
    outputAudioTimestampTypes: ["word"],
    animation: { outputs: ["viseme_id"] },
  };
  if (mode === "model") {
    config.tools = [{ type: "function", name: "get_weather", description: "The weather.",
      parameters: { type: "object", properties: { city: { type: "string" } } } }];
  }
  await session.updateSession(config);
  await until(mark, "session.updated");
  mark = seen.length;
  await session.addConversationItem({
    type: "message", role: "user", content: [{ type: "input_text", text: "what's the weather" }],
  });
  const user = (await until(mark, "conversation.item.created")).item;
  mark = seen.length;
  await session.sendEvent({ type: "response.create" });
  const done = await until(mark, "response.done");
  mark = seen.length;
  const call = (done.response?.output ?? []).find((o) => o.type === "function_call");
  if (call) {
    await session.addConversationItem({ type: "function_call_output", callId: call.callId, output: "{}" });
    await until(mark, "conversation.item.created");
    mark = seen.length;
    await session.sendEvent({ type: "response.create" });
    await until(mark, "response.done");
    mark = seen.length;
  }
  await session.sendEvent({ type: "response.create", response: { modalities: ["text"] } });
  await until(mark, "response.done");
  mark = seen.length;
  const pcm = readFileSync(audioPath);
  for (let i = 0; i < pcm.length; i += 9600) {
    await session.sendAudio(new Uint8Array(pcm.subarray(i, i + 9600)));
  }
  const spoken = await until(mark, "response.done");
  mark = seen.length;
  const assistant = (spoken.response?.output ?? []).find((o) => o.type === "message");
  await session.sendEvent({ type: "conversation.item.retrieve", itemId: user.id });
  await until(mark, "conversation.item.retrieved");
  mark = seen.length;
  if (assistant) {
    await session.sendEvent({ type: "conversation.item.truncate", itemId: assistant.id,
      contentIndex: 0, audioEndInMs: 100 });
    await until(mark, "conversation.item.truncated");
    mark = seen.length;
  }
  await session.sendEvent({ type: "conversation.item.delete", itemId: user.id });
  await until(mark, "conversation.item.deleted");
  mark = seen.length;
  await session.sendEvent({ type: "input_audio_buffer.clear" });
  await until(mark, "input_audio_buffer.cleared");
  mark = seen.length;
  await session.sendEvent({ type: "output_audio_buffer.clear" });
  await until(mark, "output_audio_buffer.cleared");
  mark = seen.length;
  await session.sendEvent({ type: "response.cancel" });
  await until(mark, "error");
  mark = seen.length;
  await session.addConversationItem({
    type: "message", role: "user", content: [{ type: "input_text", text: "tell me a story" }],
  });
  await until(mark, "conversation.item.created");
  mark = seen.length;
  await session.sendEvent({ type: "response.create" });
  await until(mark, "response.created");
  await session.sendEvent({ type: "response.cancel" });
  await until(mark, "response.done");
  await until(0, "conversation.item.input_audio_transcription.completed");
  await session.disconnect();
}

main().then(
  () => { print({ finished: true }); process.exit(0); },
  (error) => { print({ failed: String(error?.stack ?? error) }); process.exit(1); },
);

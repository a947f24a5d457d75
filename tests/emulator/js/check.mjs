// Print, as JSON, the required properties the JS SDK's models say are missing in a server
// event given as JSON on the command line, after the SDK's own deserializer parsed it.
import { createRequire } from "node:module";
import { missingRequired } from "./required.mjs";

const require = createRequire(import.meta.url);
const models = require(require.resolve("@azure/ai-voicelive").replace(/index\.js$/, "models/models.js"));
const raw = JSON.parse(process.argv[2]);
try {
  process.stdout.write(JSON.stringify({ missing: missingRequired(models.serverEventUnionDeserializer(raw)) }));
} catch (error) {
  process.stdout.write(JSON.stringify({ parse_error: String(error?.message ?? error) }));
}

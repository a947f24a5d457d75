// What the JS SDK's generated models (models.d.ts) mark required, checked on a parsed event:
// every property without `?` must be defined, recursively through interfaces, arrays and
// discriminated unions (picked by `type`, as the SDK's deserializers do).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const main = require.resolve("@azure/ai-voicelive");
const source = readFileSync(main.replace(/index\.js$/, "models/models.d.ts"), "utf8");

const interfaces = new Map(); // name -> { base, props: Map(name -> { optional, type }) }
for (const m of source.matchAll(/export interface (\w+)(?: extends (\w+))? \{([\s\S]*?)\n\}/g)) {
  const props = new Map();
  for (const p of m[3].matchAll(/^ {4}(\w+)(\??): (.+);$/gm)) {
    props.set(p[1], { optional: p[2] === "?", type: p[3].trim() });
  }
  interfaces.set(m[1], { base: m[2], props });
}
const unions = new Map(); // alias -> member names
for (const m of source.matchAll(/export type (\w+) = ([\w\s|]+);/g)) {
  unions.set(m[1], m[2].split("|").map((s) => s.trim()));
}

function allProps(name) {
  const own = interfaces.get(name);
  if (!own) return new Map();
  return new Map([...(own.base ? allProps(own.base) : new Map()), ...own.props]);
}

function pickVariant(members, value) {
  const match = members.find((n) => allProps(n).get("type")?.type === JSON.stringify(value?.type));
  return match ?? members[members.length - 1];
}

function check(value, type, path, found) {
  if (value === null || value === undefined) return;
  type = type.replace(/\s*\|\s*null$/, "");
  if (type.endsWith("[]")) {
    if (Array.isArray(value)) value.forEach((v, i) => check(v, type.slice(0, -2), `${path}[${i}]`, found));
    return;
  }
  if (unions.has(type) && unions.get(type).every((n) => interfaces.has(n))) {
    type = pickVariant(unions.get(type), value);
  }
  if (!interfaces.has(type) || typeof value !== "object") return;
  for (const [name, prop] of allProps(type)) {
    if (value[name] === undefined) {
      if (!prop.optional) found.push(`${path}.${name}`);
    } else {
      check(value[name], prop.type, `${path}.${name}`, found);
    }
  }
}

// Paths of the required properties missing in a parsed server event ([] if none).
export function missingRequired(event) {
  const found = [];
  check(event, "ServerEventUnion", "", found);
  return found;
}

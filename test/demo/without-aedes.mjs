// Loaded with `node --import` into the demo: makes `aedes` unresolvable, as in
// an installed package, where development dependencies are absent
// (demo.test.ts checks the demo then names the fix).
import { register } from "node:module";

register("./without-aedes-hooks.mjs", import.meta.url);

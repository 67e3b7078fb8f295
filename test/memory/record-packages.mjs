// Loaded with `node --import` into a real sensord: records every package the
// process resolves through the ESM loader, one name a line, into the file
// $SENSORD_TEST_PACKAGES_FILE (lazy-loading.test.ts reads it).
import { register } from "node:module";

register("./record-packages-hooks.mjs", import.meta.url, {
  data: { file: process.env.SENSORD_TEST_PACKAGES_FILE },
});

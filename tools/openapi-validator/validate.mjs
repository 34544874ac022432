// Usage: node validate.mjs <openapi.json>
// Checks the document against the OpenAPI specification's JSON Schema (@seriousme/openapi-schema-validator, strict)
// and parses and validates it with @apidevtools/swagger-parser (references, duplicate operation ids, path parameters).
// Exit 0 when both accept it; 1 with every problem on stderr otherwise.
import { readFile } from "node:fs/promises";
import { Validator } from "@seriousme/openapi-schema-validator";
import SwaggerParser from "@apidevtools/swagger-parser";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs <openapi.json>");
  process.exit(2);
}

const document = JSON.parse(await readFile(file, "utf8"));
let failed = false;

const validator = new Validator();
const schemaResult = await validator.validate(structuredClone(document));
if (!schemaResult.valid) {
  failed = true;
  console.error(`openapi-schema-validator (OpenAPI ${validator.version}): ${JSON.stringify(schemaResult.errors, null, 2)}`);
} else {
  console.log(`openapi-schema-validator: valid OpenAPI ${validator.version}`);
}

try {
  await SwaggerParser.validate(structuredClone(document));
  console.log("swagger-parser: valid");
} catch (error) {
  failed = true;
  console.error(`swagger-parser: ${error.message}`);
}

process.exit(failed ? 1 : 0);

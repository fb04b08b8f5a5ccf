// azd `postdown` hook: after `azd down`, gives the environment a new resource-name salt, so `azd up` of the
// same environment gets new names. The Key Vaults are purge-protected: soft-deleted, they keep their names
// for 90 days, and provisioning them again under the old names would fail.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** A new salt: 8 hex digits, different from the one the environment had. */
export function nextResourceSuffix(current = "") {
  for (;;) {
    const suffix = randomBytes(4).toString("hex");
    if (suffix !== current) return suffix;
  }
}

/** The command that sets it, for the environment azd just took down (not whichever is the default). */
export function setSuffixCommand(env) {
  const name = env.AZURE_ENV_NAME;
  if (!name) throw new Error("AZURE_ENV_NAME is not set: azd runs this hook with the environment it took down.");
  return ["azd", ["env", "set", "AZURE_RESOURCE_SUFFIX", nextResourceSuffix(env.AZURE_RESOURCE_SUFFIX), "-e", name]];
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? "")).href) {
  const [command, args] = setSuffixCommand(process.env);
  execFileSync(command, args, { stdio: "inherit" });
  console.log(`The next azd up of ${process.env.AZURE_ENV_NAME} names its resources anew (AZURE_RESOURCE_SUFFIX=${args[3]}).`);
}

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

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? "")).href) {
  const suffix = nextResourceSuffix(process.env.AZURE_RESOURCE_SUFFIX);
  execFileSync("azd", ["env", "set", "AZURE_RESOURCE_SUFFIX", suffix], { stdio: "inherit", shell: process.platform === "win32" });
  console.log(`The next azd up of this environment names its resources anew (AZURE_RESOURCE_SUFFIX=${suffix}).`);
}

import { callerKeyEntry, newCallerKey } from "../config/caller-key-material.js";

/**
 * `npm run key -- create NAME`: a new caller key, printed once, and the CALLER_KEYS entry (its hash)
 * to store in settings (Key Vault in Azure). `npm run key -- hash NAME` reads an existing key from
 * stdin and prints its entry. Nothing is written anywhere.
 */
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const USAGE = "Usage: npm run key -- create NAME | npm run key -- hash NAME < key-file   (NAME: letters, digits, . _ -)";

async function main(argv: readonly string[]): Promise<number> {
  const [command, name] = argv;
  if ((command !== "create" && command !== "hash") || !name || !NAME.test(name) || argv.length !== 2) {
    console.error(USAGE);
    return 2;
  }
  if (command === "hash") {
    const key = (await readStdin()).trim();
    if (!key) {
      console.error("No key on stdin.");
      return 2;
    }
    console.log(callerKeyEntry(name, key));
    return 0;
  }
  const { key, entry } = newCallerKey(name);
  console.log(`New caller key "${name}". It is shown only now; hand it to the caller and keep no copy:

  ${key}

Add this entry to the CALLER_KEYS setting (comma-separated; in Azure, the Key Vault secret it references):

  ${entry}
`);
  return 0;
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of process.stdin) parts.push(part as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  },
);

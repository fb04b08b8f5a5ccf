import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The README stays short and points into docs/; every relative link in the README and in docs/ leads to
 * a file that exists, and every `#anchor` into a markdown file to one of its headings.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const README = join(ROOT, "README.md");
const DOCS = join(ROOT, "docs");

function markdownFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return markdownFiles(path);
      return name.endsWith(".md") ? [path] : [];
    });
}

/** The text outside fenced code blocks, line by line (fenced lines become empty, so numbers stay). */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split("\n").map((line) => {
    const opening = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined) {
      if (opening) {
        fence = opening;
        return "";
      }
      return line;
    }
    if (opening && opening[0] === fence[0] && opening.length >= fence.length && line.trim() === opening) fence = undefined;
    return "";
  });
}

/** GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`/g, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a markdown file's headings get, repeated ones numbered as GitHub numbers them. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of proseLines(markdown)) {
    const text = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (text === undefined) continue;
    const base = slug(text);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The link targets of a markdown text: inline links and images, and reference definitions, outside code. */
function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(markdown)) {
    const prose = line.replace(/(`+)[\s\S]*?\1/g, "");
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(match[1] ?? "");
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(prose)?.[1];
    if (definition) targets.push(definition);
  }
  return targets;
}

/** What is wrong with the relative links of `file` (its text is `markdown`): one line per broken link. */
function brokenLinks(file: string, markdown: string): string[] {
  const problems: string[] = [];
  for (const target of linkTargets(markdown)) {
    if (target === "" || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue;
    const hash = target.indexOf("#");
    const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
    const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const linked = path === "" ? file : path.startsWith("/") ? join(ROOT, path) : resolve(dirname(file), path);
    const where = `${relative(ROOT, file)}: ${target}`;
    if (linked !== file && !existsSync(linked)) {
      problems.push(`${where}: no such file`);
      continue;
    }
    if (anchor === undefined || !linked.endsWith(".md")) continue;
    const text = linked === file ? markdown : readFileSync(linked, "utf8");
    if (!anchorsOf(text).has(anchor)) problems.push(`${where}: no heading with the anchor #${anchor}`);
  }
  return problems;
}

const readme = readFileSync(README, "utf8");
const pages = markdownFiles(DOCS);

describe("README.md", () => {
  it("is short: at most 210 lines", () => {
    expect(readme.trimEnd().split("\n").length).toBeLessThanOrEqual(210);
  });

  it("keeps the quick start: npm install && npm start, then npm test", () => {
    expect(readme).toContain("npm install && npm start");
    expect(readme).toContain("npm test");
    expect(readme.indexOf("npm install && npm start")).toBeLessThan(readme.indexOf("npm test"));
  });

  it("links every page under docs/", () => {
    const linked = new Set(linkTargets(readme).map((target) => resolve(ROOT, target.split("#")[0] ?? "")));
    expect(pages.filter((page) => !linked.has(page)).map((page) => relative(ROOT, page))).toEqual([]);
  });
});

describe("docs/", () => {
  it("has pages, each starting with a # title and a sentence on what it covers", () => {
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) {
      const [title, blank, first] = readFileSync(page, "utf8").split("\n");
      expect(title, relative(ROOT, page)).toMatch(/^# \S/);
      expect(blank, relative(ROOT, page)).toBe("");
      expect(first, relative(ROOT, page)).toMatch(/^\S/);
    }
  });
});

describe("relative links in README.md and docs/**/*.md", () => {
  it.each([README, ...pages].map((file) => [relative(ROOT, file), file]))("%s: every one leads to a file, and every #anchor to a heading", (_, file) => {
    expect(brokenLinks(file, readFileSync(file, "utf8"))).toEqual([]);
  });

  it("are found and checked as GitHub resolves them", () => {
    expect(slug("Local identity and Key Vault peers (`dev/identity`, `dev/keyvault`)")).toBe("local-identity-and-key-vault-peers-devidentity-devkeyvault");
    expect(slug("The first caller, and the next")).toBe("the-first-caller-and-the-next");
    expect(slug("Streaming: `POST /api/chat/stream`")).toBe("streaming-post-apichatstream");
    expect(slug("TOOL_MAX_ITERATIONS and [links](x.md)")).toBe("tool_max_iterations-and-links");
    expect([...anchorsOf("# A\n\n## Same\n\n```bash\n# not a heading\n```\n\n## Same\n")]).toEqual(["a", "same", "same-1"]);
    const file = join(DOCS, "example.md");
    const broken = brokenLinks(
      file,
      "# Example\n\n[ok](settings.md) [ok](#example) [web](https://example.com) `[code](nowhere.md)`\n" +
        "[gone](nowhere.md) [anchor](settings.md#no-such-heading) [self](#nor-this)\n\n```\n[fenced](nowhere.md)\n```\n",
    );
    expect(broken).toEqual([
      "docs/example.md: nowhere.md: no such file",
      "docs/example.md: settings.md#no-such-heading: no heading with the anchor #no-such-heading",
      "docs/example.md: #nor-this: no heading with the anchor #nor-this",
    ]);
  });
});

import DOMPurify from "dompurify";
import { marked } from "marked";

/**
 * Model output is untrusted: markdown is rendered by `marked` and then cleaned by DOMPurify, which keeps
 * formatting and drops scripts, event handlers, `javascript:` URLs, forms and frames; links open in a new
 * tab without the page as their opener. Nothing the model writes is ever executed.
 */
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown, { async: false, gfm: true, breaks: true }) as string;
  return DOMPurify.sanitize(html, { FORBID_TAGS: ["style", "form", "input", "button", "iframe"], FORBID_ATTR: ["style"] });
}

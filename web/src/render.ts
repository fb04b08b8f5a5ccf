import DOMPurify from "dompurify";
import { marked } from "marked";

/**
 * Model output is untrusted: markdown is rendered by `marked`, with any HTML the model writes shown as the
 * text it is, and then cleaned by DOMPurify, which keeps formatting and drops scripts, event handlers,
 * `javascript:` URLs, forms and frames; links open in a new tab without the page as their opener. Nothing
 * the model writes is ever executed.
 *
 * NOTE: HTML is shown as text rather than left to DOMPurify alone: the model's `<img src=x onerror=…>`
 * would otherwise be fetched (a request the model chose), and Chrome reports a Content-Security-Policy
 * violation for the handler while DOMPurify parses it, though nothing runs.
 */
const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
marked.use({ renderer: { html: ({ text }) => text.replace(/[&<>"']/g, (c) => escapes[c] ?? c) } });

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

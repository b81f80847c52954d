/**
 * Downloads for `source.url`: a GET with node:http/https that follows redirects and turns every
 * failure into a message naming the URL without its credentials or query (which may hold tokens).
 * The response body is read with backpressure: the socket pauses while the upload is behind.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { IncomingMessage } from "node:http";

const MAX_REDIRECTS = 10;
/** An idle connection for this long fails the download (the transfer itself may take hours). */
const IDLE_TIMEOUT_MS = 60_000;

export interface HttpResponse {
  body: IncomingMessage;
  /** Content-Length, when the server sent one (and no content encoding changes the length). */
  size: number | undefined;
  /** The URL that answered, after redirects (redacted). */
  finalUrl: string;
}

/**
 * The URL as it may be shown: user and password replaced by `***`, the query by `?…` and the
 * fragment dropped. Not a URL (already checked elsewhere): a placeholder.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "<an invalid URL>";
  }
  const credentials = parsed.username || parsed.password ? "***@" : "";
  const query = parsed.search ? "?…" : "";
  return `${parsed.protocol}//${credentials}${parsed.host}${parsed.pathname}${query}`;
}

/** GETs `url`, following redirects; resolves with a 200 response whose body is not read yet. */
export async function httpGet(url: string): Promise<HttpResponse> {
  let current = new URL(url);
  for (let redirects = 0; ; redirects++) {
    const response = await request(current);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && status !== 304 && location) {
      response.resume(); // discard the redirect's body, so the connection can be reused
      if (redirects >= MAX_REDIRECTS) {
        throw new Error(
          `downloading ${redactUrl(url)} failed: more than ${MAX_REDIRECTS} redirects (last to ${redactUrl(new URL(location, current).href)})`,
        );
      }
      const next = new URL(location, current);
      if (next.protocol !== "http:" && next.protocol !== "https:") {
        throw new Error(
          `downloading ${redactUrl(url)} failed: redirected to a ${next.protocol} URL, which virtwire cannot download`,
        );
      }
      current = next;
      continue;
    }
    if (status !== 200) {
      response.resume();
      throw new Error(
        `downloading ${redactUrl(current.href)} failed: the server answered ${status} ${response.statusMessage ?? ""}`.trimEnd() +
          (status === 404
            ? " (check the URL)"
            : status === 401 || status === 403
              ? " (check the credentials or the link's expiry)"
              : ""),
      );
    }
    return { body: response, size: contentLength(response), finalUrl: redactUrl(current.href) };
  }
}

function contentLength(response: IncomingMessage): number | undefined {
  const encoding = response.headers["content-encoding"];
  if (encoding && encoding !== "identity") return undefined;
  const value = response.headers["content-length"];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const size = Number(value);
  return Number.isSafeInteger(size) ? size : undefined;
}

function request(url: URL): Promise<IncomingMessage> {
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { headers: { "accept-encoding": "identity" } }, (res) => {
      // After the headers, idleness is still watched while the body streams.
      res.on("error", () => undefined);
      resolve(res);
    });
    // The request's own error, already naming the download; Node's errors are worded here.
    const idle = new Error(
      `downloading ${redactUrl(url.href)} failed: no data for ${IDLE_TIMEOUT_MS / 1000} s`,
    );
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(idle));
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error === idle) return reject(idle);
      reject(
        new Error(`downloading ${redactUrl(url.href)} failed: ${error.message}`, { cause: error }),
      );
    });
  });
}

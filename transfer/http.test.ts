import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { httpGet, redactUrl } from "./http";

describe("URLs in messages", () => {
  it("hide the user, password and query, which may hold credentials", () => {
    expect(redactUrl("https://alice:s3cret@images.example/a/disk.img?token=abc#x")).toBe(
      "https://***@images.example/a/disk.img?…",
    );
    expect(redactUrl("http://images.example:8080/disk.img")).toBe(
      "http://images.example:8080/disk.img",
    );
    expect(redactUrl("not a url")).toBe("<an invalid URL>");
  });
});

describe("downloads", () => {
  let server: Server;
  let base: string;
  const seen: { url?: string; auth?: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      const url = req.url ?? "/";
      if (url === "/image") return void res.end("the image");
      if (url === "/moved") {
        res.writeHead(302, { location: "/image" });
        return void res.end();
      }
      if (url === "/loop") {
        res.writeHead(301, { location: "/loop" });
        return void res.end();
      }
      if (url === "/ftp") {
        res.writeHead(302, { location: "ftp://elsewhere/image" });
        return void res.end();
      }
      res.writeHead(404, "Not Found");
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const body = async (url: string) => {
    const response = await httpGet(url);
    const parts: Buffer[] = [];
    for await (const chunk of response.body) parts.push(chunk as Buffer);
    return { ...response, text: Buffer.concat(parts).toString() };
  };

  it("gets the body and its Content-Length", async () => {
    expect(await body(`${base}/image`)).toMatchObject({ size: 9, text: "the image" });
  });

  it("follows redirects", async () => {
    expect(await body(`${base}/moved`)).toMatchObject({
      text: "the image",
      finalUrl: `${base}/image`,
    });
  });

  it("names the status of a failed request, without the URL's credentials", async () => {
    const error = await httpGet(
      `http://bob:hunter2@127.0.0.1:${base.split(":")[2]}/gone?sig=x`,
    ).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      `downloading http://***@${base.slice(7)}/gone?… failed: the server answered 404 Not Found (check the URL)`,
    );
    expect((error as Error).message).not.toMatch(/hunter2|sig=/);
    expect(seen.at(-1)!.auth).toBe(`Basic ${Buffer.from("bob:hunter2").toString("base64")}`);
  });

  it("gives up after 10 redirects, and on redirects to other protocols", async () => {
    await expect(httpGet(`${base}/loop`)).rejects.toThrow("more than 10 redirects");
    await expect(httpGet(`${base}/ftp`)).rejects.toThrow("redirected to a ftp: URL");
  });

  it("says when nothing listens", async () => {
    await expect(httpGet("http://127.0.0.1:1/image")).rejects.toThrow(
      /^downloading http:\/\/127\.0\.0\.1:1\/image failed: connect ECONNREFUSED/,
    );
  });
});

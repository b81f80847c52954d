import { sanitizePath } from "./xml";

describe("a pool's target path as libvirt stores it", () => {
  it.each([
    ["/srv/pool", "/srv/pool"],
    ["/srv/pool/", "/srv/pool"],
    ["/srv//pool///", "/srv/pool"],
    ["///srv/pool", "/srv/pool"],
    ["//srv/pool", "//srv/pool"],
    ["/", "/"],
  ])("is %s for %s", (given, stored) => {
    expect(sanitizePath(given)).toBe(stored);
  });
});

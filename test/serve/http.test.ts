// Small HTTP helpers: loopback detection (IPv4, IPv6, IPv4-mapped), cookies, escaping.
import { describe, expect, it } from "vitest";
import {
  escapeHtml,
  isLoopbackAddress,
  isLoopbackHost,
  parseCookies,
} from "../../src/serve/http.js";

describe("http helpers", () => {
  it("tells loopback addresses from others", () => {
    for (const address of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"])
      expect(isLoopbackAddress(address)).toBe(true);
    for (const address of [
      "10.0.0.1",
      "::ffff:10.0.0.1",
      "fe80::1",
      "0.0.0.0",
      undefined,
      "128.0.0.1",
    ]) {
      expect(isLoopbackAddress(address)).toBe(false);
    }
    expect(isLoopbackHost("localhost")).toBe(true);
    expect(isLoopbackHost("0.0.0.0")).toBe(false);
    expect(isLoopbackHost("::")).toBe(false);
  });

  it("parses cookies, decoding values", () => {
    const cookies = parseCookies("a=1; wattprint_session=wpt_x%5Fy; broken; b=%E0%A4%A");
    expect(cookies.get("a")).toBe("1");
    expect(cookies.get("wattprint_session")).toBe("wpt_x_y");
    expect(cookies.get("b")).toBe("%E0%A4%A");
    expect(parseCookies(undefined).size).toBe(0);
  });

  it("escapes HTML", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
    );
  });
});

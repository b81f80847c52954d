import { parseXml } from "./xml";
import {
  RESOURCE_NAMESPACE,
  markIn,
  markInMetadata,
  markedUuid,
  ownerOf,
  uuidMarks,
} from "./owner";

const URN = "urn:pulumi:dev::lab::pulumi-nodejs:dynamic/virtwire:Domain::vm1";

describe("the owner of what a create makes", () => {
  it("is the URN sdk/ passes, fresh when check saw no old inputs", () => {
    expect(ownerOf({ __urn: URN, __fresh: true })).toEqual({ urn: URN, mark: URN, fresh: true });
    expect(ownerOf({ __urn: URN })).toEqual({ urn: URN, mark: URN, fresh: false });
  });

  it("has the organization in its mark, so another organization's stack of the same name differs", () => {
    const alice = ownerOf({ __urn: URN, __org: "alice" })!;
    expect(alice).toMatchObject({ urn: URN, org: "alice", mark: `alice/${URN}` });
    expect(ownerOf({ __urn: URN, __org: "bob" })!.mark).not.toBe(alice.mark);
  });

  it('is the URN alone for a file backend, whose organization the SDK calls "organization"', () => {
    expect(ownerOf({ __urn: URN, __org: "organization" })).toEqual({
      urn: URN,
      org: undefined,
      mark: URN,
      fresh: false,
    });
  });

  it("is unknown without a URN, so nothing is marked or taken for a leftover", () => {
    expect(ownerOf({ __fresh: true })).toBeUndefined();
    expect(ownerOf({ __urn: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" })).toBeUndefined();
  });
});

describe("virtwire's mark in <metadata>", () => {
  const domain = (metadata: string) =>
    parseXml(`<domain><name>vm1</name><metadata>${metadata}</metadata></domain>`, "domain");

  it("is found by its namespace, whatever the prefix, beside other applications' elements", () => {
    const xml = `<app:x xmlns:app="https://example.com/app"/><vw:resource xmlns:vw="${RESOURCE_NAMESPACE}" urn="${URN}"/>`;
    expect(markIn(domain(xml))).toBe(URN);
  });

  it("holds the organization beside the URN when the stack has one", () => {
    const xml = `<virtwire:resource xmlns:virtwire="${RESOURCE_NAMESPACE}" urn="${URN}" org="alice"/>`;
    expect(markIn(domain(xml))).toBe(`alice/${URN}`);
    expect(markInMetadata(`<resource urn="${URN}" org="alice"/>`)).toBe(`alice/${URN}`);
  });

  it("gives the URN with XML escapes undone", () => {
    const xml = `<virtwire:resource xmlns:virtwire="${RESOURCE_NAMESPACE}" urn="urn:pulumi:a::b::c::x&amp;y"/>`;
    expect(markIn(domain(xml))).toBe("urn:pulumi:a::b::c::x&y");
  });

  it("is absent from a domain without metadata, or with a resource element of another namespace", () => {
    expect(markIn(parseXml("<domain><name>vm1</name></domain>", "domain"))).toBeUndefined();
    expect(
      markIn(domain(`<x:resource xmlns:x="https://example.com/other" urn="${URN}"/>`)),
    ).toBeUndefined();
  });

  it("is read from DOMAIN_GET_METADATA's answer, in either kind of quotes", () => {
    expect(markInMetadata(`<resource urn="${URN}"/>`)).toBe(URN);
    expect(markInMetadata(`<resource urn='${URN}'/>`)).toBe(URN);
    expect(markInMetadata("<resource/>")).toBeUndefined();
  });
});

describe("virtwire's mark in a pool's UUID", () => {
  it("is in the first four groups, a version 8 UUID, with a random last group", () => {
    const uuid = markedUuid(URN);
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(markedUuid(URN).slice(0, 23)).toBe(uuid.slice(0, 23));
    expect(markedUuid(URN)).not.toBe(uuid);
  });

  it("marks the resource it was made for, and no other, in any case", () => {
    const uuid = markedUuid(URN);
    expect(uuidMarks(uuid, URN)).toBe(true);
    expect(uuidMarks(uuid.toUpperCase(), URN)).toBe(true);
    expect(uuidMarks(uuid, `${URN}2`)).toBe(false);
    expect(uuidMarks("0bc3f59e-954a-42ee-8ffc-29e1c15161b4", URN)).toBe(false);
  });
});

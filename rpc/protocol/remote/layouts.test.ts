/**
 * Wire layouts of the REMOTE structs with traps in them (src/remote/remote_protocol.x as rpcgen
 * encodes it): char arrays of four bytes per char, unsigned char/short fields of four bytes, optional strings, the typed-param union.
 */
import { XdrError } from "../../errors";
import { decode, encode } from "../../xdr";
import { hex } from "../../../test/support/packets";
import { RemoteProcedures } from ".";
import {
  RemoteNetworkDhcpLease,
  RemoteTypedParam,
  RemoteTypedParamValue,
  TypedParamType,
} from "./types";

const ret = <K extends keyof typeof RemoteProcedures>(name: K, bytes: Buffer) =>
  decode(RemoteProcedures[name].ret, bytes);

describe("the REMOTE struct layouts", () => {
  it("decodes NODE_GET_INFO's char model[32] as 128 bytes, one int per char", () => {
    const model = [..."x86_64"].map((c) => c.charCodeAt(0).toString(16).padStart(8, "0"));
    const bytes = hex(`
      ${model.join(" ")}                  // model: "x86_64", one 4-byte int per char
      ${"00000000 ".repeat(26)}            // … NUL padding up to 32 chars (128 bytes in all)
      00000000 01000000                    // memory: 16777216 KiB (unsigned hyper)
      00000002 00000bb8 00000001           // cpus 2, mhz 3000, nodes 1
      00000001 00000002 00000001           // sockets 1, cores 2, threads 1
    `);
    expect(bytes.length).toBe(128 + 8 + 6 * 4);
    expect(ret("NodeGetInfo", bytes)).toEqual({
      model: "x86_64",
      memory: 16777216n,
      cpus: 2,
      mhz: 3000,
      nodes: 1,
      sockets: 1,
      cores: 2,
      threads: 1,
    });
  });

  it("round-trips a model of exactly 32 chars, which has no terminating NUL", () => {
    const codec = RemoteProcedures.NodeGetInfo.ret;
    const info = {
      model: "m".repeat(32),
      memory: 1n,
      cpus: 1,
      mhz: 1,
      nodes: 1,
      sockets: 1,
      cores: 1,
      threads: 1,
    };
    expect(decode(codec, encode(codec, info))).toEqual(info);
    expect(() => encode(codec, { ...info, model: "m".repeat(33) })).toThrow(XdrError);
  });

  it("decodes DOMAIN_GET_INFO with state and nrVirtCpu as four bytes each", () => {
    const bytes = hex(`
      00000001                    // state: RUNNING (unsigned char, 4 bytes)
      00000000 00020000           // maxMem: 131072 KiB
      00000000 00010000           // memory: 65536 KiB
      00000002                    // nrVirtCpu: 2 (unsigned short, 4 bytes)
      00000001 00000000           // cpuTime: 2^32 ns
    `);
    expect(ret("DomainGetInfo", bytes)).toEqual({
      state: 1,
      maxMem: 131072n,
      memory: 65536n,
      nrVirtCpu: 2,
      cpuTime: 4294967296n,
    });
  });

  it("decodes a DHCP lease with its optional strings present and absent", () => {
    const bytes = hex(`
      00000006 76697277 74300000        // iface: "virwt0" + 2 pad bytes
      00000000 6553f100                 // expirytime: 1700000000 (hyper)
      00000000                          // type: IPv4
      00000001 00000011 35323a35 343a3030 3a61633a 39623a66 30000000 // mac: present, 17 chars
      00000000                          // iaid: absent
      0000000e 3139322e 3136382e 3130302e 31300000 // ipaddr: "192.168.100.10"
      00000018                          // prefix: 24
      00000001 00000005 67756573 74000000 // hostname: present, "guest"
      00000000                          // clientid: absent
    `);
    expect(decode(RemoteNetworkDhcpLease, bytes)).toEqual({
      iface: "virwt0",
      expirytime: 1700000000n,
      type: 0,
      mac: "52:54:00:ac:9b:f0",
      iaid: null,
      ipaddr: "192.168.100.10",
      prefix: 24,
      hostname: "guest",
      clientid: null,
    });
  });

  it("encodes each typed-param arm after its discriminant", () => {
    expect(encode(RemoteTypedParamValue, { type: TypedParamType.INT, value: -1 })).toEqual(
      hex("00000001 ffffffff"),
    );
    expect(
      encode(RemoteTypedParamValue, { type: TypedParamType.ULLONG, value: 2n ** 40n }),
    ).toEqual(hex("00000004 00000100 00000000"));
    expect(encode(RemoteTypedParamValue, { type: TypedParamType.DOUBLE, value: 1.5 })).toEqual(
      hex("00000005 3ff80000 00000000"),
    );
    expect(encode(RemoteTypedParamValue, { type: TypedParamType.BOOLEAN, value: 1 })).toEqual(
      hex("00000006 00000001"),
    );
  });

  it("round-trips a string typed param", () => {
    const param: RemoteTypedParam = {
      field: "hostname",
      value: { type: TypedParamType.STRING, value: "guest" },
    };
    const bytes = encode(RemoteTypedParam, param);
    expect(bytes).toEqual(hex("00000008 686f7374 6e616d65 00000007 00000005 67756573 74000000"));
    expect(decode(RemoteTypedParam, bytes)).toEqual(param);
  });

  it("refuses a typed param with an unknown type", () => {
    expect(() => decode(RemoteTypedParamValue, hex("00000009 00000000"))).toThrow(
      /unknown union discriminant 9/,
    );
  });

  it("encodes NETWORK_UPDATE's fields in wire order", () => {
    const args = encode(RemoteProcedures.NetworkUpdate.args, {
      net: { name: "n", uuid: Buffer.alloc(16, 0xab) },
      command: 3,
      section: 4,
      parentIndex: -1,
      xml: "<x/>",
      flags: 2,
    });
    expect(args).toEqual(
      hex(`
        00000001 6e000000 ${"abababab ".repeat(4)} // net: name "n", uuid
        00000003 00000004 ffffffff                  // command ADD_LAST, section IP_DHCP_HOST, parentIndex -1
        00000004 3c782f3e 00000002                  // xml "<x/>", flags CONFIG
      `),
    );
  });
});

describe("the REMOTE procedure table", () => {
  it("declares each procedure under libvirt's API name with its wire number", () => {
    const numbers = Object.fromEntries(
      Object.values(RemoteProcedures).map((procedure) => [procedure.name, procedure.number]),
    );
    expect(numbers).toMatchObject({
      NodeGetInfo: 6,
      DomainGetInfo: 16,
      DomainInterfaceAddresses: 353,
      DomainDetachDeviceAlias: 392,
      DomainGetGuestInfo: 418,
      NetworkUpdate: 291,
      NetworkGetDHCPLeases: 341,
      NetworkDefineXMLFlags: 432,
      SecretLookupByUsage: 147,
      ConnectListAllSecrets: 287,
      ConnectGetDomainCapabilities: 342,
      NodeListDevices: 112,
      NodeDeviceGetXMLDesc: 114,
      ConnectListAllNodeDevices: 285,
      NWFilterDefineXML: 180,
      NWFilterUndefine: 181,
      ConnectListAllNWFilters: 286,
    });
  });
});

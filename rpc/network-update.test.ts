import { NetworkUpdateCommand, NetworkUpdateSection } from "./protocol/remote/constants";
import { ArgsOf } from "./protocol/program";
import { RemoteProcedures } from "./protocol/remote";
import { NetworkUpdater, networkUpdate } from "./network-update";

type UpdateArgs = ArgsOf<RemoteProcedures["NetworkUpdate"]>;

function fakeConnection(networkUpdateHasCorrectOrder: boolean) {
  const calls: UpdateArgs[] = [];
  const lv: NetworkUpdater = {
    features: {
      keepalive: true,
      eventCallbacks: true,
      closeCallback: true,
      networkUpdateHasCorrectOrder,
    },
    NetworkUpdate: (args: UpdateArgs) => {
      calls.push(args);
      return Promise.resolve();
    },
  };
  return { lv, calls };
}

const net = { name: "vwtest-net", uuid: Buffer.alloc(16, 7) };
const hostXml = "<host mac='52:54:00:00:00:01' ip='192.168.100.10'/>";

describe("networkUpdate", () => {
  it("sends command and section in API order to a server with feature 16", async () => {
    const { lv, calls } = fakeConnection(true);
    await networkUpdate(
      lv,
      net,
      NetworkUpdateCommand.ADD_LAST,
      NetworkUpdateSection.IP_DHCP_HOST,
      -1,
      hostXml,
      3,
    );
    expect(calls).toEqual([
      { net, command: 3, section: 4, parentIndex: -1, xml: hostXml, flags: 3 },
    ]);
  });

  it("swaps command and section for a server older than libvirt 7.2", async () => {
    const { lv, calls } = fakeConnection(false);
    await networkUpdate(
      lv,
      net,
      NetworkUpdateCommand.DELETE,
      NetworkUpdateSection.DNS_HOST,
      0,
      hostXml,
      1,
    );
    expect(calls).toEqual([
      { net, command: 10, section: 2, parentIndex: 0, xml: hostXml, flags: 1 },
    ]);
  });

  it("passes the server's failure on", async () => {
    const lv: NetworkUpdater = {
      ...fakeConnection(true).lv,
      NetworkUpdate: () => Promise.reject(new Error("no such network")),
    };
    await expect(
      networkUpdate(lv, net, NetworkUpdateCommand.MODIFY, NetworkUpdateSection.IP, -1, "", 0),
    ).rejects.toThrow("no such network");
  });
});

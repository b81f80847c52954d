/**
 * Preloaded (`node --require`) into the dynamic-provider plugin by bin/pulumi-resource-pulumi-nodejs,
 * so that the plugin, too, exits when the CLI that started it is killed.
 */
import { exitWithParent } from "./parent-watch";

exitWithParent(() => undefined);

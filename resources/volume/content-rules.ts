/**
 * What an upload's first bytes and size say about the Volume's inputs: an image a guest cannot
 * boot as it is, a format that is not the content's, a capacity smaller than the image. Asked by
 * create about any source, and by preflight (so at preview) about a new or changed source.path.
 */
import { formatSize, parseSize } from "../kit/units";
import type { CheckFailure } from "../kit/resource";
import type { VolumeInputs } from "../kit/generated/types";
import { detectImageFormat } from "./image-format";

export interface Content {
  /** How messages name the content: a path, or a URL without credentials. */
  label: string;
  header: Buffer;
  size: number | undefined;
}

/** The first problem, with the property to fix; undefined when the content fits the inputs. */
export function contentProblem(content: Content, inputs: VolumeInputs): CheckFailure | undefined {
  const { label, header, size } = content;
  if (size === 0) {
    return { property: "source", reason: `${label} is empty: give an image with content` };
  }
  const image = detectImageFormat(header);
  if ("refused" in image) {
    return { property: "source", reason: `cannot upload ${label}: ${image.refused}` };
  }
  if (inputs.format && inputs.format !== image.format) {
    return {
      property: "format",
      reason: `${label} is ${image.format === "qcow2" ? "a qcow2 image" : "raw content (not qcow2)"}, but format is ${JSON.stringify(inputs.format)}: libvirt reads the format from the content, so set format to ${JSON.stringify(image.format)} or leave it out`,
    };
  }
  const wanted = parseSize(inputs.capacity);
  const guestSize = image.format === "qcow2" ? image.virtualSize : size;
  if (wanted !== undefined && guestSize !== undefined && wanted < guestSize) {
    return {
      property: "capacity",
      reason: `capacity ${formatSize(wanted)} is smaller than the image's ${formatSize(guestSize)} (${guestSize} bytes): leave capacity out, or set at least that`,
    };
  }
  return undefined;
}

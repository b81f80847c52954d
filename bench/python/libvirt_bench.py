"""The libvirt-python side of bench/compare.ts: the same measurements as bench/virtwire-worker.ts,
with Debian's python3-libvirt (run it with /usr/bin/python3), one measurement per process.

  /usr/bin/python3 libvirt_bench.py calls  '{"uri":"qemu:///system","op":"libversion","count":20000,"inflight":32}'
  /usr/bin/python3 libvirt_bench.py upload '{"uri":"qemu:///system","pool":"…","volume":"…","file":"…","sparse":true}'

Calls in flight are threads sharing one connection: libvirt-python releases the GIL for the
duration of each call and libvirt's client multiplexes the calls of all threads on its socket.
Uploads do what `virsh vol-upload [--sparse]` does: a dense upload with sendAll, a sparse one with
sparseSendAll, finding data and holes with lseek(SEEK_DATA / SEEK_HOLE). Prints one JSON line.
"""

import errno
import json
import os
import resource
import sys
import threading
import time

import libvirt

MISSING_DOMAIN = "vwtest-bench-no-such-domain"


def operation(conn, op):
    if op == "libversion":
        return conn.getLibVersion
    if op == "capabilities":
        return conn.getCapabilities
    if op == "lookup-missing":

        def lookup_missing():
            try:
                conn.lookupByName(MISSING_DOMAIN)
            except libvirt.libvirtError as error:
                if error.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
            else:
                raise RuntimeError("a domain named %s exists" % MISSING_DOMAIN)

        return lookup_missing
    raise ValueError("unknown operation %r" % op)


def share(count, workers, index):
    return count // workers + (1 if index < count % workers else 0)


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def calls(job):
    conn = libvirt.open(job["uri"])
    try:
        op = operation(conn, job["op"])
        for _ in range(job["warmup"]):
            op()
        inflight = job["inflight"]
        failures = []
        ready = threading.Barrier(inflight + 1)

        def worker(index):
            ready.wait()
            try:
                for _ in range(share(job["count"], inflight, index)):
                    op()
            except BaseException as error:  # reported by the main thread
                failures.append(error)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(inflight)]
        for thread in threads:
            thread.start()
        cpu = cpu_seconds()
        start = time.perf_counter()
        ready.wait()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
        if failures:
            raise failures[0]
        return {"seconds": seconds, "count": job["count"], "cpuSeconds": cpu_seconds() - cpu}
    finally:
        conn.close()


def read_handler(_stream, nbytes, fd):
    return os.read(fd, nbytes)


def hole_handler(_stream, fd):
    """Where the file position is: in data or in a hole, and how long that section is."""
    cur = os.lseek(fd, 0, os.SEEK_CUR)
    try:
        data = os.lseek(fd, cur, os.SEEK_DATA)
    except OSError as error:
        if error.errno != errno.ENXIO:
            raise
        data = -1
    if data < 0:  # a trailing hole (or the end of the file)
        in_data, length = False, os.lseek(fd, 0, os.SEEK_END) - cur
    elif data > cur:
        in_data, length = False, data - cur
    else:
        in_data, length = True, os.lseek(fd, data, os.SEEK_HOLE) - data
    os.lseek(fd, cur, os.SEEK_SET)
    return [in_data, length]


def skip_handler(_stream, length, fd):
    return os.lseek(fd, length, os.SEEK_CUR)


def upload(job):
    conn = libvirt.open(job["uri"])
    fd = os.open(job["file"], os.O_RDONLY)
    try:
        vol = conn.storagePoolLookupByName(job["pool"]).storageVolLookupByName(job["volume"])
        size = os.fstat(fd).st_size
        cpu = cpu_seconds()
        start = time.perf_counter()
        stream = conn.newStream(0)
        if job["sparse"]:
            vol.upload(stream, 0, 0, libvirt.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM)
            stream.sparseSendAll(read_handler, hole_handler, skip_handler, fd)
        else:
            vol.upload(stream, 0, 0, 0)
            stream.sendAll(read_handler, fd)
        stream.finish()
        seconds = time.perf_counter() - start
        return {"seconds": seconds, "bytes": size, "cpuSeconds": cpu_seconds() - cpu}
    finally:
        os.close(fd)
        conn.close()


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("calls", "upload"):
        sys.exit("usage: libvirt_bench.py calls|upload '<job as JSON>'")
    # Without a handler of its own, libvirt prints every error (the missing domain) to stderr.
    libvirt.registerErrorHandler(lambda _ctx, _error: None, None)
    job = json.loads(sys.argv[2])
    result = calls(job) if sys.argv[1] == "calls" else upload(job)
    # ru_maxrss is in KiB on Linux.
    result["maxRssKiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result))


if __name__ == "__main__":
    main()

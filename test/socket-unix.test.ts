/**
 * AF_UNIX socket pairs between guest processes (issue 10, "Pipes and
 * sockets between processes"): test/programs/socketpair.c and real Python
 * programs, each run natively and under faultline with the same stdout and
 * exit status. The native run is the ground truth for every errno, flag,
 * record boundary, readiness mask and signal.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "vitest";
import { REPO, buildC, expectSameRun, runFaultline, runNative, scratch, type Variant } from "./support/native.js";

const dir = scratch("faultline-sock-");

describe("socketpair between processes (test/programs/socketpair.c)", () => {
  for (const variant of ["gcc-static", "musl-static", "gcc-dynamic"] as Variant[]) {
    it(variant, () => {
      const prog = buildC(path.join(REPO, "test", "programs", "socketpair.c"), variant);
      expectSameRun(runFaultline([prog], {}, ["--timeout", "120"]), runNative([prog]), `socketpair ${variant}`);
    }, 180_000);
  }
});

/** Python programs that use socket pairs, as their users write them. */
const PYTHON: { name: string; source: string }[] = [
  {
    name: "socket.socketpair + os.fork: sendall/recv both ways, SCM_RIGHTS with sendmsg/recvmsg, datagrams, EAGAIN, timeouts",
    source: `
import socket, os, array
a, b = socket.socketpair()
print(a.family, a.type, a.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE))
pid = os.fork()
if pid == 0:
    a.close()
    data = b''
    while len(data) < 300000:
        data += b.recv(65536)
    b.sendall(b'child got %d' % len(data))
    msg, anc, flags, addr = b.recvmsg(10, socket.CMSG_LEN(4))
    fds = array.array('i'); fds.frombytes(anc[0][2])
    os.write(fds[0], b'hello through a passed fd\\n')
    os._exit(0)
b.close()
a.sendall(b'x' * 300000)
print(a.recv(100).decode())
r, w = os.pipe()
a.sendmsg([b'f'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [w]))])
os.close(w)
print(os.read(r, 100).decode(), end='')
print('child exit', os.WEXITSTATUS(os.waitpid(pid, 0)[1]))
d1, d2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
d1.send(b'one'); d1.send(b'two')
print(d2.recv(10), d2.recv(10))
d2.setblocking(False)
try:
    d2.recv(10)
except BlockingIOError as e:
    print('EAGAIN', e.errno)
c1, c2 = socket.socketpair()
c1.settimeout(0.05)
try:
    c1.recv(1)
except socket.timeout:
    print('timed out')
c2.close()
print('EOF', c1.recv(1))
`,
  },
  {
    name: "multiprocessing.Pipe with a forked Process: pickled objects and a 300 kB message",
    source: `
import multiprocessing as mp
def worker(conn):
    x = conn.recv()
    conn.send(('pong', x * 2, [i * i for i in range(5)]))
    conn.send_bytes(b'z' * 300000)
    conn.close()
if __name__ == '__main__':
    mp.set_start_method('fork')
    a, b = mp.Pipe()
    p = mp.Process(target=worker, args=(b,))
    p.start()
    a.send(21)
    print(a.recv())
    print(len(a.recv_bytes()))
    p.join()
    print('exitcode', p.exitcode)
`,
  },
];

describe("Python programs over socket pairs, native vs faultline", () => {
  PYTHON.forEach((c, k) => {
    it(c.name, () => {
      const file = path.join(dir, `py${k}.py`);
      fs.writeFileSync(file, c.source);
      const argv = ["/usr/bin/python3", file];
      expectSameRun(runFaultline(argv, { cwd: dir }, ["--timeout", "120"]), runNative(argv, { cwd: dir }), c.name);
    }, 180_000);
  });
});

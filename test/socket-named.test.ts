/**
 * Named AF_UNIX sockets between guest processes (issue 10, "Pipes and
 * sockets between processes"): bind / listen / connect / accept over
 * file-system paths and abstract names, datagram addresses, the errors
 * Linux gives, nonblocking and waiting connects and accepts, readiness of
 * listeners, SO_PEERCRED. Each case of test/programs/unixsock.c runs
 * natively (the ground truth: errno, names, masks) and under faultline.
 */
import { describeCases } from "./support/cases.js";
import { REPO } from "./support/native.js";
import * as path from "node:path";

describeCases(path.join(REPO, "test", "programs", "unixsock.c"), [
  { name: "stream", why: "a server on a path accepts in a loop and echoes to forked clients; names on both sides; unlink" },
  { name: "dgram", why: "sendto/recvfrom addresses, recvmsg msg_name, connect as default peer, EPERM, AF_UNSPEC" },
  { name: "abstract", why: "abstract names, EADDRINUSE, gone when the socket closes; autobind" },
  { name: "errors", why: "EADDRINUSE / ENOENT / ENOTDIR / ECONNREFUSED / EPROTOTYPE / EINVAL / EISCONN / EOPNOTSUPP, table-driven" },
  { name: "nonblock", why: "EAGAIN from a nonblocking accept and from connect to a full backlog; a blocking connect that waits; SO_RCVTIMEO" },
  { name: "poll", why: "poll, epoll and select on a listener (readable when a connection waits) and on unconnected sockets" },
  { name: "peercred", why: "SO_PEERCRED: the accepted socket's peer is the child fork returned; the client's is the listener's caller" },
], { flags: ["--timeout", "120"] });

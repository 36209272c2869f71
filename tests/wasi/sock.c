/* sock.c: serves one connection on the listening socket lent as fd 3: accepts it, receives a
 * message, sends it back upper-cased, shuts down its sending side, waits for the peer to
 * close, and reports each step. wasm32-wasi only (run by test_wasi_sock). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wasi/api.h>

int main(void) {
    __wasi_fd_t c;
    __wasi_errno_t e = __wasi_sock_accept(3, 0, &c);
    printf("accept: %d\n", e);
    if (e != 0)
        return 1;
    char buf[64];
    ssize_t n = recv((int)c, buf, sizeof buf, 0);
    printf("recv: %zd [%.*s]\n", n, (int)(n > 0 ? n : 0), buf);
    for (ssize_t i = 0; i < n; i++)
        buf[i] = (char)toupper((unsigned char)buf[i]);
    printf("send: %zd\n", send((int)c, buf, (size_t)(n > 0 ? n : 0), 0));
    printf("shutdown: %d\n", shutdown((int)c, SHUT_WR));
    n = recv((int)c, buf, sizeof buf, 0);
    printf("recv after peer closed: %zd\n", n);
    printf("recv on fd 1: %d\n", (int)recv(1, buf, 1, 0) < 0);
    printf("close: %d\n", close((int)c));
    return 0;
}

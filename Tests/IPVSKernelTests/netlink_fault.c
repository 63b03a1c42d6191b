/*
 * Fault injection for IPVSKernelTests (LD_PRELOAD): the daemon is real, the kernel is real, and
 * only chosen sends on generic-netlink sockets fail. When the file named by NETLINK_FAULT_TRIGGER
 * appears holding "ERRNO COUNT [SKIP]", it is removed, SKIP sends (sendto/sendmsg) on
 * AF_NETLINK/NETLINK_GENERIC sockets pass, and the COUNT after them fail with that errno; every
 * other call passes through.
 * Built by the test with the system's C compiler.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

static int remaining;
static int skipping;
static int fault_errno;

static int should_fail(int fd)
{
    int domain = 0, protocol = 0;
    socklen_t length = sizeof(int);
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) != 0 || domain != AF_NETLINK)
        return 0;
    length = sizeof(int);
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &length) != 0 || protocol != NETLINK_GENERIC)
        return 0;
    if (remaining == 0) {
        const char *trigger = getenv("NETLINK_FAULT_TRIGGER");
        FILE *file = trigger ? fopen(trigger, "r") : NULL;
        if (file == NULL)
            return 0;
        skipping = 0;
        if (fscanf(file, "%d %d %d", &fault_errno, &remaining, &skipping) < 2)
            remaining = 0;
        fclose(file);
        unlink(trigger);
    }
    if (remaining <= 0)
        return 0;
    if (skipping > 0) {
        skipping--;
        return 0;
    }
    remaining--;
    return 1;
}

ssize_t sendto(int fd, const void *buffer, size_t length, int flags, const struct sockaddr *to, socklen_t to_length)
{
    static ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    if (real == NULL)
        real = (ssize_t (*)(int, const void *, size_t, int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "sendto");
    if (should_fail(fd)) {
        errno = fault_errno;
        return -1;
    }
    return real(fd, buffer, length, flags, to, to_length);
}

ssize_t sendmsg(int fd, const struct msghdr *message, int flags)
{
    static ssize_t (*real)(int, const struct msghdr *, int);
    if (real == NULL)
        real = (ssize_t (*)(int, const struct msghdr *, int))dlsym(RTLD_NEXT, "sendmsg");
    if (should_fail(fd)) {
        errno = fault_errno;
        return -1;
    }
    return real(fd, message, flags);
}

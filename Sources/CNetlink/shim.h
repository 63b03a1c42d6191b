// libnl-3 / libnl-route-3: the kernel's rtnetlink interface for addresses, routes, rules and links.
#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/link.h>
#include <netlink/route/rtnl.h>
#include <netlink/route/rule.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <linux/fib_rules.h>
#include <netlink/route/link/macvlan.h>

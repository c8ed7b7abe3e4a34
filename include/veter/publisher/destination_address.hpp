// Which resolved address of the relay the publisher sends to, and in which socket family.
// The two fixed local sockets are bound in one family; a destination name may resolve to
// addresses of either, and a datagram to an IPv6 address cannot leave an IPv4 socket.
#pragma once

#include <gio/gio.h>

#include <string>

#include "veter/common/gst_ptr.hpp"

namespace veter::publisher {

/// The family of the local sockets before the destination is resolved: IPv6 for an IPv6
/// literal, else IPv4 (a name is resolved later; see pick_address).
[[nodiscard]] GSocketFamily family_of_host(const std::string& host);

/// The address to send to: the first address of `family` (the local sockets' family), else the
/// first address (then the sockets must be reopened in that address's family before use).
/// nullptr for an empty list. The list keeps ownership.
[[nodiscard]] GInetAddress* pick_address(const common::GListPtr<GInetAddress>& addresses, GSocketFamily family);

}  // namespace veter::publisher

#include "veter/publisher/destination_address.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

using veter::common::GListPtr;
using veter::publisher::family_of_host;
using veter::publisher::pick_address;

namespace {

/// What g_resolver_lookup_by_name() returns: a list of owned addresses, in order.
GListPtr<GInetAddress> addresses(std::initializer_list<const char*> texts) {
  GList* list = nullptr;
  for (const char* t : texts) {
    list = g_list_append(list, g_inet_address_new_from_string(t));
  }
  return GListPtr<GInetAddress>(list);
}

std::string text(GInetAddress* a) {
  veter::common::GCharPtr s(g_inet_address_to_string(a));
  return s.get();
}

}  // namespace

TEST(DestinationAddress, FamilyOfHostIsIpv6OnlyForIpv6Literals) {
  EXPECT_EQ(family_of_host("::1"), G_SOCKET_FAMILY_IPV6);
  EXPECT_EQ(family_of_host("2001:db8::7"), G_SOCKET_FAMILY_IPV6);
  EXPECT_EQ(family_of_host("127.0.0.1"), G_SOCKET_FAMILY_IPV4);
  EXPECT_EQ(family_of_host("relay.example.org"), G_SOCKET_FAMILY_IPV4);
}

TEST(DestinationAddress, PrefersTheSocketsFamily) {
  const auto mixed = addresses({"2001:db8::1", "192.0.2.7", "192.0.2.8"});
  EXPECT_EQ(text(pick_address(mixed, G_SOCKET_FAMILY_IPV4)), "192.0.2.7");
  EXPECT_EQ(text(pick_address(mixed, G_SOCKET_FAMILY_IPV6)), "2001:db8::1");
}

TEST(DestinationAddress, NameWithOnlyIpv6AddressesYieldsAnIpv6Address) {
  // The caller sees the family differ from its IPv4 sockets and reopens them in IPv6.
  const auto v6_only = addresses({"2001:db8::1", "2001:db8::2"});
  GInetAddress* a = pick_address(v6_only, G_SOCKET_FAMILY_IPV4);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(g_inet_address_get_family(a), G_SOCKET_FAMILY_IPV6);
  EXPECT_EQ(text(a), "2001:db8::1");
}

TEST(DestinationAddress, EmptyListHasNoAddress) {
  EXPECT_EQ(pick_address(GListPtr<GInetAddress>(), G_SOCKET_FAMILY_IPV4), nullptr);
}

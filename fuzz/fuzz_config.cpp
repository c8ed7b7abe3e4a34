// Fuzz the YAML configuration loaders of both daemons: any input must either
// load or raise ConfigError, never crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string>

#include "veter/common/config_reader.hpp"
#include "veter/publisher/publisher_config.hpp"
#include "veter/relay/conf/relay_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    veter::relay::RelayConfig cfg;
    veter::relay::apply_yaml(cfg, text, "fuzz.yml");
    (void)veter::relay::to_yaml(cfg);
  } catch (const veter::common::ConfigError&) {
  }
  try {
    veter::publisher::PublisherConfig cfg;
    veter::publisher::apply_yaml(cfg, text, "fuzz.yml");
    (void)veter::publisher::to_yaml(cfg);
  } catch (const veter::common::ConfigError&) {
  }
  return 0;
}

# The API's routing/query parsing and the bearer-token check.
veter_fuzz_target(fuzz_http_api fuzz_http_api.cpp LIBS veter_relay_lib)

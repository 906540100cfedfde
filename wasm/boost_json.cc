// Boost.JSON for the wasm32-wasi build, compiled once here in its header-only form (Debian's
// libboost-json is a host library). Built with BOOST_NO_EXCEPTIONS: Boost then calls
// boost::throw_exception where it would throw, and we define it to end the program with the
// message. Our code uses only Boost.JSON's error_code interfaces, so this is reached only on
// a bug (or an allocation failure), as an uncaught exception would be natively.
#include <boost/json/src.hpp>
#include <cstdio>
#include <cstdlib>

namespace boost {

void throw_exception(const std::exception& e) {
  std::fprintf(stderr, "fatal: boost exception without exception support: %s\n", e.what());
  std::abort();
}

void throw_exception(const std::exception& e, const boost::source_location& where) {
  std::fprintf(stderr, "fatal: boost exception without exception support: %s (%s:%u)\n", e.what(),
               where.file_name(), unsigned(where.line()));
  std::abort();
}

}  // namespace boost

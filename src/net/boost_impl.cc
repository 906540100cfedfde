// The compiled part of Boost.Asio (with its TLS support) and Boost.Beast, built once; see
// CMakeLists.txt beside this file.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>

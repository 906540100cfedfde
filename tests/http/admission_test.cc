#include "http/admission.h"

#include <gtest/gtest.h>

#include <vector>

namespace http {
namespace {

AddressKey addr(unsigned char last) {
  AddressKey k{};
  k[10] = k[11] = 0xff;  // ::ffff:10.0.0.x
  k[12] = 10;
  k[15] = last;
  return k;
}

TEST(AdmissionTest, GlobalLimitCountsPlacesAndGivesThemBack) {
  Admission a(3, 0);
  std::vector<Admission::Slot> held(3);
  for (auto& s : held) EXPECT_EQ(a.admit(addr(1), &s), Admit::kAdmitted);
  EXPECT_EQ(a.open(), 3);
  Admission::Slot over;
  EXPECT_EQ(a.admit(addr(2), &over), Admit::kOverLimit);
  EXPECT_FALSE(over);
  EXPECT_EQ(a.open(), 3);
  held.pop_back();  // one connection closes
  EXPECT_EQ(a.open(), 2);
  EXPECT_EQ(a.admit(addr(2), &over), Admit::kAdmitted);
  EXPECT_TRUE(over);
}

TEST(AdmissionTest, PerAddressLimitIsPerAddress) {
  Admission a(0, 2);  // no global limit
  Admission::Slot s1, s2, s3, other;
  EXPECT_EQ(a.admit(addr(1), &s1), Admit::kAdmitted);
  EXPECT_EQ(a.admit(addr(1), &s2), Admit::kAdmitted);
  EXPECT_EQ(a.admit(addr(1), &s3), Admit::kOverAddressLimit);
  EXPECT_EQ(a.admit(addr(2), &other), Admit::kAdmitted);
  EXPECT_EQ(a.open(), 3);
  Admission::Slot moved = std::move(s1);  // a moved slot releases once
  moved.release();
  moved.release();
  s1.release();
  EXPECT_EQ(a.open(), 2);
  EXPECT_EQ(a.admit(addr(1), &s3), Admit::kAdmitted);
}

TEST(AdmissionTest, DefaultLimitKeepsAReserveBelowTheFdLimit) {
  EXPECT_EQ(default_max_connections(1024), 1024 - 128);
  EXPECT_EQ(default_max_connections(65536), 65536 - 1024);
  EXPECT_EQ(default_max_connections(1048576), 1048576 - 1024);
  EXPECT_EQ(default_max_connections(8192), 8192 - 819);
  EXPECT_EQ(default_max_connections(100), 16);  // never zero
  for (int64_t fds : {256, 1024, 4096, 65536, 1 << 20}) {
    EXPECT_LT(default_max_connections(fds), fds);
  }
}

}  // namespace
}  // namespace http

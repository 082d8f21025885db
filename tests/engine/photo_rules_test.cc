// The hub's rules for photos (hub_store.h) and a device's garbage collection (photos.h), on
// real stores: the size limit of the hub and of a template item (on the device too), each
// device's quota, who may fetch a photo, and what garbage collection keeps.
#include <sys/stat.h>
#include <utime.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <visitsync/photos.h>

#include "hub_fixture.h"

using namespace vs;
using test::kSchool;
using test::TwoInspectors;

namespace {

std::string record_of(const std::string& visit) {
  return "visit/" + std::string(kSchool) + "/" + visit;
}

// Ages a file by `days`, as garbage collection sees it.
void age(const std::string& path, int days) {
  const std::time_t old = std::time(nullptr) - days * 86'400;
  const utimbuf times{old, old};
  REQUIRE(utime(path.c_str(), &times) == 0);
}

struct PhotoHub : TwoInspectors {
  // Publishes the next version of school-conditions with `change` made to buildings_photo, and
  // a pulls it.
  template <class F>
  void publish_variant(F&& change) {
    nlohmann::json t =
        nlohmann::json::parse(test::slurp(test::templates_dir() + "/school-conditions.json"));
    t["version"] = t["version"].get<int>() + 1;
    for (auto& section : t["sections"])
      for (auto& item : section["items"])
        if (item["key"] == "buildings_photo") change(item);
    Result<Template> published = hub->inspection().publish_template(t.dump());
    INFO(published.status().to_string());
    REQUIRE(published.ok());
    pull(a);
  }
  // A visit of a's whose buildings_photo names `ids` (files not held), pushed; its id.
  std::string named_visit(const std::string& ids) {
    const std::string visit = start(a);
    REQUIRE(a.in->set_answer(visit, "buildings_photo", ids).ok());
    REQUIRE(push(a).ok());
    return visit;
  }
};

}  // namespace

TEST_CASE_METHOD(PhotoHub, "the hub refuses photos over its limit or a device's quota",
                 "[engine][photos]") {
  const std::string small = test::fake_jpeg(200'000, 1);
  const std::string big = test::fake_jpeg(900'000, 2);
  const std::string visit = named_visit(sha256_hex(small) + "," + sha256_hex(big));
  const std::string& dev = a.record.device_id;
  CHECK(hub->may_upload_photo(dev, record_of(visit), sha256_hex(big), big.size()).ok());

  PhotoLimits limits;
  limits.max_bytes = 500 * 1024;
  limits.quota_bytes = 1 << 20;
  REQUIRE(hub->set_photo_limits(limits).ok());
  Status over = hub->may_upload_photo(dev, record_of(visit), sha256_hex(big), big.size());
  CHECK(over.code() == Code::kRejected);
  CHECK_THAT(over.message(), Catch::Contains("879 KiB, over this hub's limit of 500 KiB"));

  // The quota counts what the device's uploads hold, each file once.
  REQUIRE(hub->photo_arrived(dev, std::string(64, 'a'), 900'000).ok());
  REQUIRE(hub->photo_arrived(dev, std::string(64, 'a'), 900'000).ok());
  CHECK(hub->photo_bytes_of(dev).value() == 900'000);
  Status full = hub->may_upload_photo(dev, record_of(visit), sha256_hex(small), small.size());
  CHECK(full.code() == Code::kRejected);
  CHECK_THAT(full.message(), Catch::Contains("photo quota on the hub: 879 KiB of 1024 KiB used"));
  // A photo the hub holds already costs nothing.
  REQUIRE(hub->photos().put(small).ok());
  CHECK(hub->may_upload_photo(dev, record_of(visit), sha256_hex(small), small.size()).ok());

  // Garbage collection takes a removed file off its sender's quota.
  REQUIRE(hub->photos().put(test::fake_jpeg(900'000, 3)).ok());
  const std::string gone = sha256_hex(test::fake_jpeg(900'000, 3));
  REQUIRE(hub->photo_arrived(dev, gone, 900'000).ok());
  age(hub->photos().path(gone), 10);
  Result<PhotoGarbage> g = hub->collect_photo_garbage(7 * 86'400);
  REQUIRE(g.ok());
  REQUIRE(g->removed.size() == 1);
  CHECK(g->removed[0].first == gone);
  CHECK(hub->photo_bytes_of(dev).value() == 900'000);
  CHECK(hub->photos().has(sha256_hex(small)));  // named by the visit

  // Bad limits are refused.
  limits.max_bytes = 10;
  CHECK(hub->set_photo_limits(limits).code() == Code::kInvalidInput);
}

TEST_CASE_METHOD(PhotoHub, "a template item's max_kb is checked on the device and on the hub",
                 "[engine][photos]") {
  publish_variant([](nlohmann::json& item) { item["max_kb"] = 100; });
  const std::string visit = start(a);
  Result<std::string> id = a.in->add_photo(test::fake_jpeg(150'000, 4));
  REQUIRE(id.ok());
  Status on_device = a.in->set_answer(visit, "buildings_photo", id.value());
  CHECK(on_device.code() == Code::kInvalidInput);
  CHECK_THAT(on_device.message(),
             Catch::Contains("is 147 KiB; this item takes photos of at most 100 KiB"));
  // A device that skips the check (it named the photo, the file is elsewhere) meets the hub's.
  const std::string elsewhere = sha256_hex(test::fake_jpeg(150'000, 5));
  REQUIRE(a.in->set_answer(visit, "buildings_photo", elsewhere).ok());
  REQUIRE(push(a).ok());
  Status on_hub = hub->may_upload_photo(a.record.device_id, record_of(visit), elsewhere, 150'000);
  CHECK(on_hub.code() == Code::kRejected);
  CHECK_THAT(on_hub.message(), Catch::Contains("over item buildings_photo's limit of 100 KiB"));
  CHECK(hub->may_upload_photo(a.record.device_id, record_of(visit), elsewhere, 90'000).ok());
}

TEST_CASE_METHOD(PhotoHub, "a device may fetch only a photo a visit in its scope names",
                 "[engine][photos]") {
  const std::string photo = test::fake_jpeg(50'000, 6);
  const std::string id = sha256_hex(photo);
  const std::string visit = named_visit(id);
  pull(b);
  // Named, in b's scope, not on the hub yet: later.
  CHECK(hub->may_fetch_photo(b.record.device_id, record_of(visit), id).code() ==
        Code::kUnavailable);
  REQUIRE(hub->photos().put(photo).ok());
  CHECK(hub->may_fetch_photo(b.record.device_id, record_of(visit), id).ok());
  // Another photo, or the record of another school, or a device of another county: refused.
  const std::string other = sha256_hex(test::fake_jpeg(50'000, 7));
  CHECK(hub->may_fetch_photo(b.record.device_id, record_of(visit), other).code() ==
        Code::kRejected);
  CHECK(hub->may_fetch_photo(b.record.device_id, "visit/S00012/" + visit, id).code() ==
        Code::kRejected);
  Device far = enroll("I0012");
  Status outside = hub->may_fetch_photo(far.record.device_id, record_of(visit), id);
  CHECK(outside.code() == Code::kRejected);
  CHECK_THAT(outside.message(), Catch::Contains("no visit in this device's scope"));
  CHECK(hub->may_fetch_photo(far.record.device_id, "template/school-conditions", id).code() ==
        Code::kRejected);
}

TEST_CASE_METHOD(PhotoHub,
                 "a device's garbage collection keeps what answers name, what waits to be sent "
                 "and what is asked for",
                 "[engine][photos]") {
  // buildings_photo keeps the last value written (lww), so an answer can drop a photo.
  publish_variant([](nlohmann::json& item) { item["merge"] = "lww"; });
  const std::string data = a.in->data_dir();
  const auto put = [&](int seed) {
    Result<std::string> id = a.in->add_photo(test::fake_jpeg(20'000, static_cast<unsigned>(seed)));
    REQUIRE(id.ok());
    return id.value();
  };
  const std::string kept = put(1);      // named by the answer
  const std::string replaced = put(2);  // named, then dropped, never sent
  const std::string sent = put(3);      // named, then dropped; the hub has it
  const std::string loose = put(4);     // never named
  const std::string wanted = put(5);    // asked for
  const std::string visit = start(a);
  REQUIRE(a.in->set_answer(visit, "buildings_photo", replaced + "," + sent).ok());
  REQUIRE(a.in->set_answer(visit, "buildings_photo", kept).ok());
  REQUIRE(a.in->engine().set_setting(kPhotoUpPrefix + sent, "1").ok());
  REQUIRE(a.in->engine().set_setting(kPhotoFetchPrefix + wanted, record_of(visit)).ok());
  for (const std::string& id : {kept, replaced, sent, loose, wanted})
    age(data + "/attachments/" + id, 10);
  const std::string fresh = put(6);  // never named, within the grace period
  Result<PhotoGarbage> g = collect_photo_garbage(a.in->engine(), data, 7 * 86'400);
  REQUIRE(g.ok());
  std::set<std::string> removed;
  for (const auto& [id, size] : g->removed) removed.insert(id);
  CHECK(removed == std::set<std::string>{sent, loose});
  for (const std::string& id : {kept, replaced, wanted, fresh}) CHECK(has_photo(data, id));
}

TEST_CASE_METHOD(PhotoHub, "a device collects its photo garbage by itself at most once a day",
                 "[engine][photos]") {
  const std::string data = a.in->data_dir();
  const auto loose = [&](unsigned seed) {
    Result<std::string> id = a.in->add_photo(test::fake_jpeg(10'000, seed));
    REQUIRE(id.ok());
    age(data + "/attachments/" + id.value(), 10);
    return id.value();
  };
  const std::string first = loose(1);
  REQUIRE(collect_photo_garbage_daily(a.in->engine(), data).ok());
  CHECK_FALSE(has_photo(data, first));
  // Within the day: nothing runs.
  const std::string second = loose(2);
  clock.advance(23 * 3'600'000);
  REQUIRE(collect_photo_garbage_daily(a.in->engine(), data).ok());
  CHECK(has_photo(data, second));
  clock.advance(2 * 3'600'000);
  REQUIRE(collect_photo_garbage_daily(a.in->engine(), data).ok());
  CHECK_FALSE(has_photo(data, second));
}

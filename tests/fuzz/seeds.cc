// fuzz_seeds OUT_DIR SOURCE_DIR: writes the fuzz targets' seed corpora (OUT_DIR/<target>/...):
// the frames of a whole session and the batches in them, made by the wire code itself; the
// sample CSV files with each kind's leading byte; the project's templates; and an enrollment
// made for a throwaway deployment (so it never needs committing: it holds a key).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <visitsync/photos.h>
#include <visitsync/transport/client.h>
#include <visitsync/transport/deployment.h>

#include "wire/batch.h"
#include "wire/frame.h"
#include "wire/messages.h"

namespace fs = std::filesystem;
using namespace vs;

namespace {

void put(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<Op> sample_ops() {
  std::vector<Op> ops;
  const std::string visit = "visit/S00001/6f1d2c3e-0000-4000-8000-000000000001";
  const Value values[] = {Value::integer(377), Value::text("漏水 in the roof"),
                          Value::set({"water", "roof"}), Value::boolean(true)};
  const Policy policies[] = {Policy::kLww, Policy::kAppend, Policy::kUnion, Policy::kLww};
  for (std::uint64_t i = 0; i < 4; ++i) {
    Op op;
    op.id = OpId{"d-I0011-0a1b2c3d", i + 1};
    op.record = visit;
    op.field = "a.item_" + std::to_string(i);
    op.policy = policies[i];
    op.value = values[i];
    op.hlc = make_hlc(1795435200000 + i, 0);
    op.context = 1;
    if (i > 0) op.base.push_back(OpId{"d-I0011-0a1b2c3d", i});
    ops.push_back(op);
  }
  return ops;
}

// One frame, as the stream carries it; the fuzz target's first byte is its chunk size.
std::string stream_of(const std::vector<wire::Frame>& frames) {
  std::string out(1, '\x07');
  for (const wire::Frame& f : frames) wire::append_frame(out, f);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: fuzz_seeds OUT_DIR SOURCE_DIR\n";
    return 2;
  }
  const fs::path out = argv[1];
  const fs::path source = argv[2];
  const std::vector<Op> ops = sample_ops();
  const std::string batch = wire::encode_batch(ops);
  put(out / "batch", "four-ops", batch);
  put(out / "batch", "one-op", wire::encode_batch({ops.front()}));

  wire::Hello hello;
  hello.device_id = "d-I0011-0a1b2c3d";
  hello.last_seq = 4;
  wire::Welcome welcome;
  welcome.hub_id = "hub";
  welcome.rejected = {{3, "no item 'item_2'"}};
  wire::PushAck ack;
  ack.acked_seq = 4;
  wire::PullRequest pull;
  pull.cursor = "p=0;s=-;o=1";
  pull.max_ops = 5000;
  wire::PullBatch pulled;
  pulled.batch = batch;
  pulled.next_cursor = "p=4;s=-;o=1";
  wire::Refused refused;
  refused.code = 3;
  refused.reason = "this device is revoked";
  const std::string photo = "\xFF\xD8\xFF\xE0" + std::string(kPhotoChunkBytes + 100, 'p');
  const PhotoManifest manifest = manifest_of(photo);
  wire::PhotoOffer offer;
  offer.id = sha256_hex(photo);
  offer.record = "visit/S00011/5e0bd5a4-0000-4000-8000-00000000f00d";
  offer.size = manifest.size;
  offer.chunk_sha = manifest.chunk_sha;
  wire::PhotoWant want{offer.id, 0};
  wire::PhotoChunk chunk{offer.id, kPhotoChunkBytes, photo.substr(kPhotoChunkBytes)};
  wire::PhotoAck photo_ack{offer.id, photo.size()};
  wire::PhotoRefused photo_refused{offer.id, 3, "not a JPEG, PNG or HEIC image"};
  wire::PhotoGet photo_get{offer.id, offer.record};
  const std::vector<wire::Frame> session = {
      wire::encode(hello), wire::encode(welcome),   wire::encode(wire::Push{batch}),
      wire::encode(ack),   wire::encode(offer),     wire::encode(want),
      wire::encode(chunk), wire::encode(photo_ack), wire::encode(photo_refused),
      wire::encode(pull),  wire::encode(pulled),    wire::encode(photo_get),
      wire::encode(wire::Bye{})};
  put(out / "frame", "session", stream_of(session));
  put(out / "frame", "refused", stream_of({wire::encode(refused)}));
  for (std::size_t i = 0; i < session.size(); ++i)
    put(out / "frame", "frame-" + std::to_string(i), stream_of({session[i]}));

  const char kinds[] = {'\x00', '\x01', '\x02'};
  const char* names[] = {"schools", "inspectors", "assignments"};
  for (int k = 0; k < 3; ++k) {
    std::string csv = slurp(source / "schema/sample" / (std::string(names[k]) + ".csv"));
    if (csv.size() > 4000) csv.resize(csv.rfind('\n', 4000) + 1);  // a few dozen rows
    put(out / "csv", names[k], std::string(1, kinds[k]) + csv);
  }
  for (const auto& entry : fs::directory_iterator(source / "schema/templates")) {
    if (entry.path().extension() == ".json")
      put(out / "template", entry.path().filename().string(), slurp(entry.path()));
  }

  const fs::path scratch = out / ".deployment";
  fs::remove_all(scratch);
  if (Status s = create_hub_tls((scratch / "hub").string(), (scratch / "ca").string(), "127.0.0.1");
      !s.ok()) {
    std::cerr << "fuzz_seeds: " << s.message() << "\n";
    return 1;
  }
  Result<DeploymentCa> ca = load_deployment_ca((scratch / "ca").string());
  if (!ca.ok()) return 1;
  Result<Enrollment> e = make_enrollment(
      ca.value(), DeviceRecord{"d-I0011-0a1b2c3d", "I0011", Role::kInspector, false, 0},
      "127.0.0.1", 7443);
  if (!e.ok()) return 1;
  put(out / "enrollment", "enrolled", enrollment_json(e.value()));
  fs::remove_all(scratch);
  return 0;
}

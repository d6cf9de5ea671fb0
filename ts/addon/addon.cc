// trapline N-API addon: exposes the machine capability probe (core/probe.h) to JS.
#include <sys/xattr.h>
#include <string>
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "probe.h"

namespace {

Napi::Value Probe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  struct tl_probe p;
  std::memset(&p, 0, sizeof p);
  errno = 0;
  int rc = tl_probe_machine(&p);
  if (rc < 0) {
    int err = errno;
    std::string msg = "trapline: machine probe failed (rc " + std::to_string(rc) + ")";
    if (err != 0) msg += ": " + std::string(std::strerror(err));
    Napi::Error::New(env, msg).ThrowAsJavaScriptException();
    return env.Undefined();
  }

  // Bound the copy in case the C side ever leaves the buffer unterminated.
  size_t klen = strnlen(p.kernel, sizeof p.kernel);

  Napi::Object o = Napi::Object::New(env);
  o.Set("sud", Napi::Boolean::New(env, p.sud != 0));
  o.Set("sudErrno", Napi::Number::New(env, p.sud_errno));
  o.Set("mmapMinAddr", Napi::Number::New(env, static_cast<double>(p.mmap_min_addr)));
  o.Set("zeroMappable", Napi::Boolean::New(env, p.zero_mappable != 0));
  o.Set("zeroErrno", Napi::Number::New(env, p.zero_errno));
  o.Set("pkeys", Napi::Boolean::New(env, p.pkeys != 0));
  o.Set("pkeysErrno", Napi::Number::New(env, p.pkeys_errno));
  o.Set("xcr0", Napi::BigInt::New(env, static_cast<uint64_t>(p.xcr0)));
  o.Set("xsaveSize", Napi::Number::New(env, p.xsave_size));
  o.Set("fsgsbase", Napi::Boolean::New(env, p.fsgsbase != 0));
  o.Set("membarrierSyncCore", Napi::Boolean::New(env, p.membarrier_sync_core != 0));
  o.Set("kernel", Napi::String::New(env, p.kernel, klen));
  return o;
}

// fileCaps(path): true if the file carries file capabilities (security.capability), which
// make the loader run it in secure mode (LD_PRELOAD ignored).
Napi::Value FileCaps(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "fileCaps(path): path must be a string").ThrowAsJavaScriptException();
    return env.Null();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  return Napi::Boolean::New(env, getxattr(path.c_str(), "security.capability", nullptr, 0) > 0);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("probe", Napi::Function::New(env, Probe, "probe"));
  exports.Set("fileCaps", Napi::Function::New(env, FileCaps, "fileCaps"));
  return exports;
}

}  // namespace

NODE_API_MODULE(trapline_addon, Init)

// trapline N-API addon: exposes the machine capability probe (ts/addon/probe.h) and the
// red-zone rule (lazy/redzone.h, the same code libtrapline.so runs) to JS.
#include <sys/xattr.h>
#include <string>
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "probe.h"
#include "lazy/redzone.h"

namespace
{

Napi::Value Probe(const Napi::CallbackInfo &info)
{
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

// redzone(code: Uint8Array, site: number) -> { kind, at }: tl_redzone_check on the
// window code (the caller clips it exactly as the interposer does; docs/scan.md).
Napi::Value Redzone(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    if (info.Length() != 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) {
        Napi::TypeError::New(env, "redzone(code: Uint8Array, site: number)").ThrowAsJavaScriptException();
        return env.Undefined();
    }
    Napi::Uint8Array code = info[0].As<Napi::Uint8Array>();
    double site = info[1].As<Napi::Number>().DoubleValue();
    if (!(site >= 0) || site + 2 > static_cast<double>(code.ElementLength())) {
        Napi::RangeError::New(env, "redzone: site outside the code").ThrowAsJavaScriptException();
        return env.Undefined();
    }
    struct tl_rz_result r;
    tl_redzone_check(code.Data(), code.ElementLength(), static_cast<size_t>(site), &r);
    Napi::Object o = Napi::Object::New(env);
    o.Set("kind", Napi::Number::New(env, r.kind));
    o.Set("at", Napi::Number::New(env, r.at));
    return o;
}

// insnLengths(code: Uint8Array) -> Uint8Array: a linear sweep with the rule's decoder
// (tl_insn_length); 0 marks an undecodable byte (the sweep steps over it). For tests.
Napi::Value InsnLengths(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    if (info.Length() != 1 || !info[0].IsTypedArray()) {
        Napi::TypeError::New(env, "insnLengths(code: Uint8Array)").ThrowAsJavaScriptException();
        return env.Undefined();
    }
    Napi::Uint8Array code = info[0].As<Napi::Uint8Array>();
    size_t n = code.ElementLength();
    Napi::Uint8Array out = Napi::Uint8Array::New(env, n);
    for (size_t i = 0; i < n;) {
        int len = tl_insn_length(code.Data() + i, n - i);
        out[i] = static_cast<uint8_t>(len);
        i += len > 0 ? static_cast<size_t>(len) : 1;
    }
    return out;
}

// fileCaps(path): true if the file carries file capabilities (security.capability), which
// make the loader run it in secure mode (LD_PRELOAD ignored).
Napi::Value FileCaps(const Napi::CallbackInfo &info)
{
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) {
        Napi::TypeError::New(env, "fileCaps(path): path must be a string").ThrowAsJavaScriptException();
        return env.Null();
    }
    std::string path = info[0].As<Napi::String>().Utf8Value();
    return Napi::Boolean::New(env, getxattr(path.c_str(), "security.capability", nullptr, 0) > 0);
}

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
    exports.Set("insnLengths", Napi::Function::New(env, InsnLengths, "insnLengths"));
    exports.Set("probe", Napi::Function::New(env, Probe, "probe"));
    exports.Set("redzone", Napi::Function::New(env, Redzone, "redzone"));
    exports.Set("fileCaps", Napi::Function::New(env, FileCaps, "fileCaps"));
    return exports;
}

} // namespace

NODE_API_MODULE(trapline_addon, Init)

// Module entry: free functions plus the WhisperModel class (see model.h).
#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "args.h"
#include "ggml-backend.h"
#include "log_capture.h"
#include "model.h"
#include "whisper.h"
#include "workers.h"

namespace whisper_addon {
namespace {

// loadModel(path: string, options: { useGpu, flashAttn, gpuDevice? }): Promise<WhisperModel>
Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    throw Napi::TypeError::New(env, "path must be a string");
  }
  const Napi::Object opts = RequireObject(info, 1, "options");

  whisper_context_params params = whisper_context_default_params();
  params.use_gpu = OptionalBoolProperty(opts, "useGpu", false);
  params.flash_attn = OptionalBoolProperty(opts, "flashAttn", true);
  const Napi::Value gpu_device = opts.Get("gpuDevice");
  if (!gpu_device.IsUndefined() && !gpu_device.IsNull()) {
    params.gpu_device = ToBoundedInt(env, gpu_device, "options.gpuDevice", 0, 255);
  }

  auto* worker = new LoadWorker(env, info[0].As<Napi::String>().Utf8Value(), params);
  worker->Queue();
  return worker->Promise();
}

// languages(): string[] — every code whisper.cpp knows, in id order.
Napi::Value Languages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int max_id = whisper_lang_max_id();
  Napi::Array out = Napi::Array::New(env, static_cast<size_t>(max_id) + 1);
  for (int id = 0; id <= max_id; ++id) {
    out.Set(static_cast<uint32_t>(id), Napi::String::New(env, whisper_lang_str(id)));
  }
  return out;
}

Napi::Value SystemInfo(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), whisper_print_system_info());
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), whisper_version());
}

// gpuDevices(): string[] — GPU backends compiled in and present (empty on CPU builds).
Napi::Value GpuDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    if (ggml_backend_dev_type(dev) != GGML_BACKEND_DEVICE_TYPE_GPU) continue;
    out.Set(n++, Napi::String::New(env, std::string(ggml_backend_dev_name(dev)) + ": " +
                                            ggml_backend_dev_description(dev)));
  }
  return out;
}

bool LoggingRequested() {
  const char* value = std::getenv("WHISPER_LOG");
  return value != nullptr && std::strcmp(value, "") != 0 && std::strcmp(value, "0") != 0;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallLogHandler(LoggingRequested());
  exports.Set("loadModel", Napi::Function::New<LoadModel>(env, "loadModel"));
  exports.Set("languages", Napi::Function::New<Languages>(env, "languages"));
  exports.Set("systemInfo", Napi::Function::New<SystemInfo>(env, "systemInfo"));
  exports.Set("version", Napi::Function::New<Version>(env, "version"));
  exports.Set("gpuDevices", Napi::Function::New<GpuDevices>(env, "gpuDevices"));
  exports.Set("WhisperModel", Model::DefineClass(env));
  exports.Set("abortedErrorCode", Napi::String::New(env, kAbortedCode));
  exports.Set("freedErrorCode", Napi::String::New(env, kFreedCode));
  return exports;
}

}  // namespace
}  // namespace whisper_addon

// NODE_API_MODULE pastes the init name into an identifier, so it must be unqualified.
static Napi::Object InitWhisperAddon(Napi::Env env, Napi::Object exports) {
  return whisper_addon::Init(env, exports);
}

NODE_API_MODULE(whisper_addon, InitWhisperAddon)

// JS wrapper around one whisper_context. Every call runs on its own whisper_state on
// the libuv pool; free() is deferred until in-flight calls have finished.
#pragma once

#include <napi.h>

#include <optional>

#include "whisper.h"

namespace whisper_addon {

class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // Wraps an already loaded context; the new JS object owns it.
  static Napi::Object NewInstance(Napi::Env env, whisper_context* ctx, double size_bytes);

  explicit Model(const Napi::CallbackInfo& info);
  ~Model() override;

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Called on the JS thread by a worker when its call has completed.
  void EndCall();

 private:
  Napi::Value DetectLanguage(const Napi::CallbackInfo& info);
  Napi::Value Transcribe(const Napi::CallbackInfo& info);
  Napi::Value Free(const Napi::CallbackInfo& info);
  Napi::Value GetIsMultilingual(const Napi::CallbackInfo& info);
  Napi::Value GetSizeBytes(const Napi::CallbackInfo& info);
  Napi::Value GetLanguageCount(const Napi::CallbackInfo& info);
  Napi::Value GetIsFreed(const Napi::CallbackInfo& info);

  // Throws if the model is freed (or being freed); otherwise counts the call in.
  void BeginCall(Napi::Env env);
  void FreeIfIdle(Napi::Env env);
  // Throws a JS Error when `language` is unknown or unsupported by this model.
  void CheckLanguage(Napi::Env env, const std::string& language) const;

  whisper_context* ctx_ = nullptr;
  bool multilingual_ = false;
  int language_count_ = 0;
  double size_bytes_ = 0;

  // All touched on the JS thread only, so no locking is needed.
  int in_flight_ = 0;
  bool free_requested_ = false;
  std::optional<Napi::Promise::Deferred> pending_free_;
  Napi::ObjectReference free_promise_;
};

}  // namespace whisper_addon

//===- TrainSettings.h - The training settings, described once --*- C++ -*-===//
//
// TrainSettings is what a training program runs with: the model file's
// train section, compiled in, with the train command's flags applied.
// trainSettingFields() describes each field once: where a train section
// sets it (the language's parser binds arguments from it), the flag that
// overrides it (the program's command line is built from it), its meaning
// (docs/training.md is checked against it), and the generated driver writes
// every field through it.
//
// Header-only: the language (dsl/), the compiler and the runtime share it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace netc::rt {

struct TrainSettings {
  std::string optimizer = "sgd"; // sgd, adam, adamw, rmsprop
  double lr = 0.01, momentum = 0, weightDecay = 0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, rmsAlpha = 0.99, eps = 1e-8;
  std::string schedule = "constant"; // constant, step, plateau, cosine
  std::vector<int64_t> milestones;   // step: epochs at which lr *= gamma
  int64_t stepEvery = 0;             // step: every N epochs instead
  double gamma = 0.1;                // step and plateau factor
  int64_t patience = 10;             // plateau
  double minLr = 0;                  // cosine, plateau
  int64_t warmup = 0;                // epochs of linear warm-up
  int64_t batch = 32, epochs = 10, seed = 0;
  int64_t cropSize = 0, cropPad = 0; // random_crop(size, pad)
  bool hflip = false;
  std::vector<std::string> freeze; // parameter-name prefixes kept fixed
};

/// Where a train section sets a field: the argument `arg` of the call
/// `call` given to the setting (`optimizer = sgd(lr=…)`: call "sgd", arg
/// "lr"), with its default there; or, with no call, the setting's value
/// itself (`batch = 64`).
struct SettingSyntax {
  const char *call = nullptr;
  const char *arg = nullptr;
  bool required = false;
  double defaultValue = 0; // numbers and booleans (0 or 1)
};

/// What values a flag accepts.
enum class FlagCheck { None, Positive, NonNegative, Batch };

struct TrainSettingField {
  using Member =
      std::variant<double TrainSettings::*, int64_t TrainSettings::*,
                   bool TrainSettings::*, std::string TrainSettings::*,
                   std::vector<int64_t> TrainSettings::*,
                   std::vector<std::string> TrainSettings::*>;
  const char *name; // the member's name, as generated drivers set it
  Member member;
  const char *setting; // the train section's setting that holds it
  std::vector<SettingSyntax> syntax;
  /// The setting's value is a call and this field its name: the calls it
  /// may be ("sgd adam adamw rmsprop").
  const char *choices = nullptr;
  const char *flag = nullptr; // the train command's flag, or none
  FlagCheck check = FlagCheck::None;
  const char *doc = "";
};

inline const std::vector<TrainSettingField> &trainSettingFields() {
  using S = TrainSettings;
  static const std::vector<TrainSettingField> fields = {
      {"optimizer",
       &S::optimizer,
       "optimizer",
       {},
       "sgd adam adamw rmsprop",
       nullptr,
       FlagCheck::None,
       "the optimizer"},
      {"lr",
       &S::lr,
       "optimizer",
       {{"sgd", "lr", true},
        {"adam", "lr", false, 1e-3},
        {"adamw", "lr", false, 1e-3},
        {"rmsprop", "lr", false, 1e-2}},
       nullptr,
       "--lr",
       FlagCheck::Positive,
       "base learning rate"},
      {"momentum",
       &S::momentum,
       "optimizer",
       {{"sgd", "momentum"}, {"rmsprop", "momentum"}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "momentum"},
      {"weightDecay",
       &S::weightDecay,
       "optimizer",
       {{"sgd", "weight_decay"},
        {"adam", "weight_decay"},
        {"adamw", "weight_decay", false, 1e-2},
        {"rmsprop", "weight_decay"}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "L2 penalty (adamw: decoupled weight decay)"},
      {"nesterov",
       &S::nesterov,
       "optimizer",
       {{"sgd", "nesterov"}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "Nesterov momentum"},
      {"beta1",
       &S::beta1,
       "optimizer",
       {{"adam", "beta1", false, 0.9}, {"adamw", "beta1", false, 0.9}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "decay of the gradient's moving average"},
      {"beta2",
       &S::beta2,
       "optimizer",
       {{"adam", "beta2", false, 0.999}, {"adamw", "beta2", false, 0.999}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "decay of the squared gradient's moving average"},
      {"eps",
       &S::eps,
       "optimizer",
       {{"adam", "eps", false, 1e-8},
        {"adamw", "eps", false, 1e-8},
        {"rmsprop", "eps", false, 1e-8}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "added to the denominator"},
      {"rmsAlpha",
       &S::rmsAlpha,
       "optimizer",
       {{"rmsprop", "alpha", false, 0.99}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "decay of the squared gradient's moving average"},
      {"schedule",
       &S::schedule,
       "schedule",
       {},
       "constant step plateau cosine",
       nullptr,
       FlagCheck::None,
       "the learning-rate schedule"},
      {"milestones",
       &S::milestones,
       "schedule",
       {{"step", "at"}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "epochs after which lr *= gamma"},
      {"stepEvery",
       &S::stepEvery,
       "schedule",
       {{"step", "every"}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "or every this many epochs"},
      {"gamma",
       &S::gamma,
       "schedule",
       {{"step", "gamma", false, 0.1}, {"plateau", "factor", false, 0.1}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "the factor of each reduction"},
      {"patience",
       &S::patience,
       "schedule",
       {{"plateau", "patience", false, 10}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "epochs without improvement before a reduction"},
      {"minLr",
       &S::minLr,
       "schedule",
       {{"plateau", "min_lr"}, {"cosine", "min_lr"}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "the lowest learning rate"},
      {"warmup",
       &S::warmup,
       "warmup",
       {{}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "epochs of linear warm-up"},
      {"batch",
       &S::batch,
       "batch",
       {{nullptr, nullptr, false, 32}},
       nullptr,
       "--batch",
       FlagCheck::Batch,
       "images per step"},
      {"epochs",
       &S::epochs,
       "epochs",
       {{nullptr, nullptr, false, 10}},
       nullptr,
       "--epochs",
       FlagCheck::NonNegative,
       "epochs to train"},
      {"seed",
       &S::seed,
       "seed",
       {{}},
       nullptr,
       "--seed",
       FlagCheck::NonNegative,
       "seed of initialization, shuffling, augmentation and dropout"},
      {"cropSize",
       &S::cropSize,
       "augment",
       {{"random_crop", "size", true}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "random crops of this size, after padding"},
      {"cropPad",
       &S::cropPad,
       "augment",
       {{"random_crop", "pad"}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "zero padding on each side before the crop"},
      {"hflip",
       &S::hflip,
       "augment",
       {{"hflip", nullptr}},
       nullptr,
       nullptr,
       FlagCheck::None,
       "flip half the images horizontally"},
      {"freeze",
       &S::freeze,
       "freeze",
       {{}},
       nullptr,
       "--freeze",
       FlagCheck::None,
       "parameter-name prefixes kept fixed"},
  };
  return fields;
}

} // namespace netc::rt

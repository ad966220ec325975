// Placeholder until the background worker lands (issue 4): defines nothing, registers nothing.
namespace pgs::worker {
void define_settings_and_register() {}
}  // namespace pgs::worker

#include "Session.h"

#include "base/Error.h"
#include "io/AtomicWrite.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace diffseg::core {

namespace fs = std::filesystem;

namespace {

const char* const kSessionFile = "session.json";

/// UTC time as ISO 8601 with milliseconds (autosaves are sorted by it).
std::string utcNow()
{
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[40];
    const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms));
    return text;
}

std::string absolute(const std::string& path)
{
    std::error_code ec;
    const fs::path p = fs::absolute(path, ec);
    return ec ? path : p.lexically_normal().string();
}

} // namespace

Session::Session()
    : m_editor(LabelCanvas(), m_undo)
{
    // Every change of the history is an edit of the document, except the reset of an open.
    m_undo.onChanged = [this] {
        if (!m_resetting) {
            m_dirty = true;
        }
        notify(SessionEvent::History);
    };
}

Session::~Session() = default;

void Session::resetDocument(const std::string& path, LabelCanvas canvas)
{
    m_resetting = true;
    m_editor.setCanvas(canvas);
    m_undo.clear();
    m_resetting = false;
    m_open = true;
    m_path = path.empty() ? std::string() : absolute(path);
    m_groundTruthPath.clear();
    m_savePath.clear();
    m_dirty = false;
    m_result = {};
    m_resultPending = false;
    m_acceptNote.clear();
    m_uncertainty.clear();
    m_regions.clear();
    m_regionCursor = 0;
    notify(SessionEvent::Opened);
}

void Session::replaceCanvas(LabelCanvas canvas)
{
    m_resetting = true;
    m_editor.setCanvas(canvas); // clears the history
    m_resetting = false;
}

void Session::resetHistory()
{
    m_resetting = true;
    m_undo.clear();
    m_resetting = false;
}

void Session::setGroundTruthPath(const std::string& path)
{
    m_groundTruthPath = path.empty() ? std::string() : absolute(path);
    notify(SessionEvent::GroundTruth);
}

void Session::notify(SessionEvent event, const IndexBox& region)
{
    // A copy: an observer may add or remove observers.
    const std::map<int, Observer> observers = m_observers;
    for (const auto& [id, observer] : observers) {
        observer(SessionChange{event, region});
    }
}

int Session::addObserver(Observer observer)
{
    const int id = m_nextObserver++;
    m_observers.emplace(id, std::move(observer));
    return id;
}

void Session::removeObserver(int id)
{
    m_observers.erase(id);
}

void Session::replaceLabels(const std::vector<std::uint16_t>& labels, const std::string& title)
{
    if (!isOpen()) {
        throw Error(ErrorKind::InvalidValue, "session", "no document is open");
    }
    const IndexBox changed = m_editor.replaceAll(labels, title);
    notify(SessionEvent::Labels, changed);
}

void Session::loadLabels(const std::string& path)
{
    if (!isOpen()) {
        throw Error(ErrorKind::InvalidValue, path, "open a document before its labels");
    }
    replaceLabels(readLabels(path), "Load " + fs::path(path).filename().string());
    m_acceptNote = "labels loaded from " + fs::path(path).filename().string();
    m_resultPending = false;
}

IndexBox Session::undo()
{
    const IndexBox changed = m_editor.undo();
    notify(SessionEvent::Labels, changed);
    return changed;
}

IndexBox Session::redo()
{
    const IndexBox changed = m_editor.redo();
    notify(SessionEvent::Labels, changed);
    return changed;
}

void Session::clearLabels()
{
    if (!isOpen()) {
        return;
    }
    const auto size = m_editor.canvas().size();
    replaceLabels(
        std::vector<std::uint16_t>(static_cast<std::size_t>(size[0] * size[1] * size[2]), 0),
        "Clear");
}

void Session::notifyLabelsChanged(const IndexBox& region)
{
    notify(SessionEvent::Labels, region);
}

namespace {

/// Checks that `model` can work on the session's document; its capabilities.
ModelCapabilities usableModel(const Session& session, const Segmenter& model, const char* what)
{
    if (!session.isOpen()) {
        throw Error(ErrorKind::InvalidValue, "session",
                    std::string("open a document before ") + what + " it");
    }
    ModelCapabilities capabilities = model.capabilities();
    if (capabilities.input != session.kind()) {
        throw Error(ErrorKind::Mismatch, model.path(),
                    std::string("the model segments ") + inputKindName(capabilities.input) +
                        "s but the open document is a " + inputKindName(session.kind()));
    }
    return capabilities;
}

/// The uncertainty map a run's result is walked by: the request's, else the model's default.
std::string requestedUncertainty(const SegmentationRequest& request,
                                 const ModelCapabilities& capabilities)
{
    return request.uncertainty.empty() ? capabilities.defaults.uncertainty : request.uncertainty;
}

} // namespace

void Session::segment(Segmenter& model, const SegmentationRequest& request,
                      const SegmentationStepCallback& callback, const CancelToken& cancel)
{
    const ModelCapabilities capabilities = usableModel(*this, model, "segmenting");
    setResult(model.segmentInput(input(), request, callback, cancel),
              requestedUncertainty(request, capabilities));
}

void Session::refine(Segmenter& model, const SegmentationPrompts& prompts,
                     const SegmentationRequest& request, const SegmentationStepCallback& callback,
                     const CancelToken& cancel)
{
    const ModelCapabilities capabilities = usableModel(*this, model, "refining");
    if (!capabilities.prompts) {
        throw Error(ErrorKind::Config, model.path(), "the model takes no prompts");
    }
    setResult(model.refineInput(input(), currentLabels(), prompts, request, callback, cancel),
              requestedUncertainty(request, capabilities));
}

void Session::setResult(SegmentationOutcome outcome, const std::string& uncertainty)
{
    if (outcome.empty()) {
        m_result = {};
        m_resultPending = false;
        m_regions.clear();
        notify(SessionEvent::Result);
        return;
    }
    if (outcome.kind != kind()) {
        throw Error(ErrorKind::Mismatch, "segmentation result",
                    std::string("is for a ") + inputKindName(outcome.kind) +
                        " but the open document is a " + inputKindName(kind()));
    }
    checkResult(outcome);
    m_result = std::move(outcome);
    m_resultPending = true;
    const std::vector<std::string> maps = uncertaintyMaps();
    m_uncertainty = !uncertainty.empty() ? uncertainty
                    : std::find(maps.begin(), maps.end(), m_uncertainty) != maps.end()
                        ? m_uncertainty
                        : (maps.empty() ? std::string() : maps.front());
    notify(SessionEvent::Result);
    recomputeRegions();
}

bool Session::acceptResult()
{
    if (!hasResult()) {
        return false;
    }
    replaceLabels(resultLabels(), "Accept AI result");
    m_acceptNote = "the AI result";
    m_resultPending = false;
    return true;
}

bool Session::acceptStep(int step, int member)
{
    if (!hasResult()) {
        return false;
    }
    const std::optional<std::vector<std::uint16_t>> labels = stepLabels(step, member);
    if (!labels) {
        return false;
    }
    replaceLabels(*labels, "Use step " + std::to_string(step + 1));
    m_acceptNote =
        "step " + std::to_string(step + 1) +
        (member >= 0 ? " (member " + std::to_string(member + 1) + ")"
                     : std::string(kind() == InputKind::Photo ? " (ensemble mean)" : ""));
    m_resultPending = false;
    return true;
}

void Session::chooseUncertainty(const std::string& name)
{
    const std::vector<std::string> maps = uncertaintyMaps();
    if (std::find(maps.begin(), maps.end(), name) == maps.end()) {
        throw Error(ErrorKind::Config, "uncertainty",
                    "'" + name + "' is not a map of the current result");
    }
    m_uncertainty = name;
    recomputeRegions();
}

void Session::recomputeRegions()
{
    m_regions = hasResult() && !m_uncertainty.empty() ? findRegions(m_uncertainty)
                                                      : std::vector<UncertainRegion>{};
    m_regionCursor = 0;
    notify(SessionEvent::Regions);
}

std::optional<RegionVisit> Session::nextUncertainRegion()
{
    if (m_regions.empty()) {
        return std::nullopt;
    }
    if (m_regionCursor >= static_cast<int>(m_regions.size())) {
        m_regionCursor = 0;
    }
    RegionVisit visit;
    visit.index = m_regionCursor++;
    visit.region = m_regions[static_cast<std::size_t>(visit.index)];
    visit.count = static_cast<int>(m_regions.size());
    visit.last = m_regionCursor >= visit.count;
    return visit;
}

void Session::save(const std::string& path)
{
    if (!isOpen()) {
        throw Error(ErrorKind::InvalidValue, path, "nothing to save: no document is open");
    }
    writeLabels(path);
    m_savePath = absolute(path);
    m_dirty = false;
    notify(SessionEvent::Saved);
}

void Session::autosave(const std::string& folder) const
{
    if (!isOpen()) {
        throw Error(ErrorKind::InvalidValue, folder, "nothing to autosave: no document is open");
    }
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) {
        throw Error(ErrorKind::Io, folder, "cannot create the autosave folder: " + ec.message());
    }
    // The labels first: the session file that points at them appears only once they are whole.
    const std::string labels = autosaveLabelsName();
    writeLabels((fs::path(folder) / labels).string());
    nlohmann::json json;
    json["kind"] = inputKindName(kind());
    json["image"] = m_path;
    json["groundTruth"] = m_groundTruthPath;
    json["mask"] = labels;
    json["saved"] = utcNow();
    json["edits"] = m_undo.undoCount();
    const std::string text = json.dump(2);
    writeFileAtomically((fs::path(folder) / kSessionFile).string(), text.data(), text.size());
}

AutosaveContents Session::readAutosave(const std::string& folder)
{
    const std::string file = (fs::path(folder) / kSessionFile).string();
    std::ifstream in(file);
    if (!in) {
        throw Error(ErrorKind::NotFound, file, "no autosave here");
    }
    AutosaveContents c;
    try {
        const nlohmann::json json = nlohmann::json::parse(in);
        c.kind = json.value("kind", std::string("photo")) == "volume" ? InputKind::Volume
                                                                      : InputKind::Photo;
        c.document = json.at("image").get<std::string>();
        c.groundTruth = json.value("groundTruth", std::string());
        c.labelsFile = (fs::path(folder) / json.value("mask", std::string("mask.png"))).string();
        c.saved = json.value("saved", std::string());
        c.edits = json.value("edits", 0);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::Format, file, std::string("not an autosave: ") + e.what());
    }
    if (!fs::exists(c.labelsFile)) {
        throw Error(ErrorKind::NotFound, c.labelsFile, "the autosaved labels are missing");
    }
    return c;
}

void Session::restoreAutosave(const AutosaveContents& contents)
{
    if (contents.kind != kind()) {
        throw Error(ErrorKind::Mismatch, contents.document,
                    std::string("the autosave holds a ") + inputKindName(contents.kind) +
                        " but this session opens " + inputKindName(kind()) + "s");
    }
    // The document first: the labels are checked against its grid.
    open(contents.document);
    const std::vector<std::uint16_t> labels = readLabels(contents.labelsFile);
    if (!contents.groundTruth.empty() && contents.groundTruth != m_groundTruthPath) {
        loadGroundTruth(contents.groundTruth);
    }
    replaceLabels(labels, "Restore autosaved edits");
    m_acceptNote = "edits restored from an autosave of " + contents.saved;
}

} // namespace diffseg::core

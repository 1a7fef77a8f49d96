{{/* Chart name, overridable. */}}
{{- define "ablate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release name, plus the chart name unless the release name already holds it. */}}
{{- define "ablate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ablate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ablate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ablate
{{- end }}

{{- define "ablate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ablate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ablate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ablate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag or repository@digest; the tag defaults to the appVersion. */}}
{{- define "ablate.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .appVersion .image.tag) }}
{{- end }}
{{- end }}

{{- define "ablate.natsUrl" -}}
{{- if .Values.nats.url }}
{{- .Values.nats.url }}
{{- else if .Values.nats.embedded.enabled }}
{{- printf "nats://%s-nats.%s.svc:4222" (include "ablate.fullname" .) .Release.Namespace }}
{{- else }}
{{- fail "nats.url is required (or set nats.embedded.enabled=true to try ablate with a built-in NATS)" }}
{{- end }}
{{- end }}

{{/* Namespaces given namespaced Roles; the release namespace when the list is empty. */}}
{{- define "ablate.watchNamespaces" -}}
{{- if .Values.controller.watch.namespaces }}
{{- join "," .Values.controller.watch.namespaces }}
{{- else }}
{{- .Release.Namespace }}
{{- end }}
{{- end }}

{{/*
The rules the controller needs on FineTuneJobs and what it creates for them — exactly the API calls
controller/operator/ makes (test/chart/chart.test.ts derives them from its source and compares).
Informers list and watch; reconciles create Jobs, patch the status subresource and record Events.
Secrets are absent on purpose: trainer pods get NATS credentials by secretKeyRef, which the kubelet
resolves, so the controller never reads them.
*/}}
{{- define "ablate.controllerRules" -}}
- apiGroups: ["ablate.dev"]
  resources: ["finetunejobs"]
  verbs: ["list", "watch"]
- apiGroups: ["ablate.dev"]
  resources: ["finetunejobs/status"]
  verbs: ["patch"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["list", "watch", "create"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create"]
{{- end }}

{{/* The restricted container security context shared by every container of the chart. */}}
{{- define "ablate.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

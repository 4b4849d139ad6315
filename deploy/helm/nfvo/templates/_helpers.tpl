{{/* Names */}}
{{- define "nfvo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nfvo.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "nfvo.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "nfvo.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "nfvo.secretName" -}}
{{- default (include "nfvo.fullname" .) .Values.auth.existingSecret -}}
{{- end -}}

{{/* Labels; "component" is api or worker */}}
{{- define "nfvo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nfvo.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "nfvo.labels" -}}
{{ include "nfvo.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{- define "nfvo.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{/* The database URL when built from host/port/user/name; the password comes from PGPASSWORD */}}
{{- define "nfvo.databaseUrl" -}}
{{- $d := .Values.database -}}
{{- printf "postgresql+psycopg://%s@%s:%v/%s?sslmode=%s" (urlquery $d.user) $d.host $d.port (urlquery $d.name) $d.sslmode -}}
{{- end -}}

{{/* Environment shared by API and worker containers */}}
{{- define "nfvo.env" -}}
- name: NFVO_ADMIN_USER
  value: {{ .Values.auth.adminUser | quote }}
- name: NFVO_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ include "nfvo.secretName" . }}, key: admin-password}
- name: NFVO_SECRET_KEY
  valueFrom:
    secretKeyRef: {name: {{ include "nfvo.secretName" . }}, key: secret-key}
{{- if .Values.database.url }}
- name: NFVO_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ include "nfvo.secretName" . }}, key: database-url}
{{- else }}
- name: NFVO_DATABASE_URL
  value: {{ include "nfvo.databaseUrl" . | quote }}
- name: PGPASSWORD  # libpq's password variable; absent for password-less authentication
  valueFrom:
    secretKeyRef: {name: {{ include "nfvo.secretName" . }}, key: database-password, optional: true}
{{- end }}
- name: NFVO_DATA_DIR
  value: /var/lib/nfvo
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod template pieces shared by API and worker */}}
{{- define "nfvo.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes:
  - name: data
    {{- if .Values.dataVolume.existingClaim }}
    persistentVolumeClaim:
      claimName: {{ .Values.dataVolume.existingClaim }}
    {{- else }}
    emptyDir:
      sizeLimit: {{ .Values.dataVolume.sizeLimit }}
    {{- end }}
  - name: tmp
    emptyDir:
      medium: Memory
      sizeLimit: 64Mi
{{- end -}}

{{- define "nfvo.volumeMounts" -}}
- name: data
  mountPath: /var/lib/nfvo
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "nfvo.podAnnotations" -}}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

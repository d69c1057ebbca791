${head}

%{ for key in keys }${key}
%{ endfor ~}

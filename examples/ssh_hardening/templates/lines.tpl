${head}

%{ for line in lines }${line}
%{ endfor ~}
